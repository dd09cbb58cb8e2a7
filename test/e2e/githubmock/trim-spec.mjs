#!/usr/bin/env node
// Trim GitHub's REST description (from @octokit/openapi) to the operations mlguard's action calls, and plant
// scenario answers in it, so that Prism serves a pull request of our choosing.
//
// usage: node trim-spec.mjs IN.json OUT.json [--scenario FILE] [--ops id,id,...] [--all]
//
// Writes OUT.json (the description Prism serves) and OUT.routes.json (what proxy.mjs needs to pick a scenario
// answer for a request). The scenario file maps an operationId to named answers:
//
//   {
//     "pulls/list-files": {
//       "pull_number=1": {"status": 200, "value": [...]},     // answer when the path's pull_number is 1
//       "default":       {"status": 200, "value": []}         // any other request (optional)
//     },
//     "x-anything": ...                                       // keys starting with x- are ignored here
//   }
//
// A key is "default" or a list of path parameters joined with "&" ("owner=o&pull_number=1"). The value must fit
// the description's response schema (Prism serves it as an example; run Prism with --errors to check). Every
// answer becomes a named example of that operation's response; the proxy adds "Prefer: code=.., example=.." to
// requests whose path parameters match, so one Prism serves every scenario at once.
//
// The Link header is removed from every response: Prism would otherwise send the description's example
// (rel="next" page=2) on every page, and a client that follows it would page for ever.
import { readFileSync, writeFileSync } from 'node:fs';

// What a PR-scanning action calls: checks, comments, PR files, contents for base manifests, SARIF upload.
const DEFAULT_OPS = [
  'checks/create', 'checks/update', 'checks/get', 'checks/list-annotations', 'checks/list-for-ref',
  'issues/create-comment', 'issues/list-comments', 'issues/update-comment', 'issues/delete-comment',
  'issues/get-comment',
  'pulls/get', 'pulls/list-files', 'pulls/list-commits', 'pulls/create-review', 'pulls/create-review-comment',
  'pulls/list-review-comments',
  'repos/get', 'repos/compare-commits', 'repos/get-content', 'repos/get-commit',
  'code-scanning/upload-sarif', 'meta/root', 'rate-limit/get',
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function parseArgs(argv) {
  const opts = { files: [], scenario: null, ops: DEFAULT_OPS, all: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--scenario') opts.scenario = argv[++i];
    else if (a === '--ops') opts.ops = argv[++i].split(',').filter(Boolean);
    else if (a === '--all') opts.all = true;
    else if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
    else opts.files.push(a);
  }
  if (opts.files.length !== 2) throw new Error('usage: node trim-spec.mjs IN.json OUT.json [--scenario FILE] [--ops a,b] [--all]');
  return opts;
}

// Example names travel in a Prefer header, which Prism splits on "," ";" and "=": keep them to [A-Za-z0-9_.-].
export function exampleName(key) {
  return key === 'default' ? 'default' : 'scenario_' + key.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

// "owner=o&pull_number=1" -> {owner: "o", pull_number: "1"}
export function parseKey(key) {
  if (key === 'default') return {};
  const match = {};
  for (const part of key.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`scenario key ${JSON.stringify(key)}: want "default" or name=value&...`);
    match[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return match;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const [inPath, outPath] = opts.files;
  const spec = JSON.parse(readFileSync(inPath, 'utf-8'));
  const scenario = opts.scenario ? JSON.parse(readFileSync(opts.scenario, 'utf-8')) : {};
  for (const k of Object.keys(scenario)) if (k.startsWith('x-')) delete scenario[k];

  const wanted = new Set([...opts.ops, ...Object.keys(scenario)]);
  const out = { openapi: spec.openapi, info: spec.info, servers: spec.servers, paths: {}, components: {} };
  const found = new Map(); // operationId -> {method, path, op}
  for (const [p, item] of Object.entries(spec.paths)) {
    const kept = {};
    for (const [k, v] of Object.entries(item)) {
      if (!METHODS.includes(k)) { kept[k] = v; continue; } // path-level parameters
      if (opts.all || wanted.has(v.operationId)) {
        kept[k] = structuredClone(v);
        found.set(v.operationId, { method: k, path: p, op: kept[k] });
      }
    }
    if (Object.keys(kept).some((k) => METHODS.includes(k))) out.paths[p] = kept;
  }
  const missing = [...wanted].filter((id) => !found.has(id));
  if (missing.length) throw new Error(`operations not in the description: ${missing.join(', ')}`);

  const deref = (obj, section) => (obj && obj.$ref ? spec.components[section][obj.$ref.split('/').pop()] : obj);

  // Drop the Link header (see the top of the file); inline responses we are about to change.
  for (const { op } of found.values()) {
    for (const [code, resp] of Object.entries(op.responses ?? {})) {
      if (resp.headers?.Link || resp.headers?.link || scenario[op.operationId]) {
        const r = structuredClone(deref(resp, 'responses'));
        if (r.headers) { delete r.headers.Link; delete r.headers.link; }
        op.responses[code] = r;
      }
    }
  }

  // Plant the scenario answers as named examples, and describe the routes for the proxy.
  const routes = [];
  for (const [id, answers] of Object.entries(scenario)) {
    const { method, path, op } = found.get(id);
    const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const route = { operationId: id, method: method.toUpperCase(), path, params, answers: [] };
    const byStatus = new Map(); // status -> {name: {value}}
    for (const [key, answer] of Object.entries(answers)) {
      const status = String(answer.status ?? 200);
      if (!op.responses[status]?.content?.['application/json']) {
        throw new Error(`${id}: the description has no application/json ${status} response (it has ${Object.keys(op.responses).join(', ')})`);
      }
      const match = parseKey(key);
      for (const p of Object.keys(match)) if (!params.includes(p)) throw new Error(`${id}: ${key}: ${p} is not a parameter of ${path}`);
      const name = exampleName(key);
      if (!byStatus.has(status)) byStatus.set(status, {});
      byStatus.get(status)[name] = { value: answer.value };
      route.answers.push({ key, example: name, status: Number(status), match });
    }
    for (const [status, named] of byStatus) {
      const media = op.responses[status].content['application/json'];
      // Prism answers with the first example when no Prefer header names one: the scenario's "default" if it
      // has one, else the description's own first example.
      const [ownName, own] = Object.entries(media.examples ?? {})[0] ?? [];
      const first = named.default ? { default: named.default } : own ? { [ownName]: own } : {};
      media.examples = { ...first, ...named };
      delete media.example;
    }
    // Most specific first, so that the proxy can take the first match.
    route.answers.sort((a, b) => Object.keys(b.match).length - Object.keys(a.match).length);
    routes.push(route);
  }

  // Transitive closure of local $refs (#/components/<section>/<name>).
  if (opts.all) out.components = spec.components;
  else {
    const need = new Set();
    const walk = (node) => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      if (typeof node.$ref === 'string' && node.$ref.startsWith('#/components/')) {
        const [, , section, name] = node.$ref.split('/');
        const key = `${section}/${name}`;
        if (!need.has(key)) { need.add(key); walk(spec.components[section][name]); }
      }
      for (const v of Object.values(node)) walk(v);
    };
    walk(out.paths);
    for (const key of [...need].sort()) {
      const [section, name] = key.split('/');
      (out.components[section] ??= {})[name] = spec.components[section][name];
    }
  }
  out['x-mlguard-mock'] = { from: inPath, operations: [...found.keys()].sort(), scenario: opts.scenario };
  writeFileSync(outPath, JSON.stringify(out));
  writeFileSync(outPath.replace(/\.json$/, '') + '.routes.json', JSON.stringify(routes, null, 2) + '\n');
  console.error(`trim-spec: kept ${Object.keys(out.paths).length} paths, ${found.size} operations, ` +
    `${routes.reduce((n, r) => n + r.answers.length, 0)} scenario answers; wrote ${outPath}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try { main(); } catch (e) { console.error(`trim-spec: ${e.message}`); process.exit(2); }
}
