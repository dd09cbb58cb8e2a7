#!/usr/bin/env node
// A loopback proxy in front of Prism that
//   1. normalises the Accept headers GitHub clients send: Prism matches media types exactly against the
//      description, which lists only application/json, so go-github's application/vnd.github.v3+json (and the
//      preview types some of its services send) would get 406 or 500. Any application/vnd.github.* Accept
//      becomes application/json, except the diff/patch/sha/raw/html/text variants, which pass unchanged;
//   2. picks the scenario answer for a request (routes from trim-spec.mjs) by adding
//      "Prefer: code=STATUS, example=NAME" unless the client sent a Prefer header itself;
//   3. logs one JSON line per request to LOG: time, method, path (with query), status, the request headers a
//      test cares about (Accept, whether Authorization was present, X-GitHub-Api-Version, Content-Type), the
//      request body (parsed when it is JSON), the scenario example used, and for 4xx/5xx the response body
//      (Prism's validation error). The line is written before the response ends, so a client that has its
//      answer can read its line.
// It also answers, itself and without logging them:
//   GET /__mock/health       200 once Prism answers, 503 before;
//   PUT /__mock/faults       a JSON list of faults to inject, replacing the previous list: each
//                            {"method": "POST", "path": "^/repos/o/r/check-runs$" (a regular expression on the path
//                            without the query), "status": 403, "body": {...}, "headers": {...}, "times": 1
//                            (omit: every time)}; a matching request is answered with it instead of going to
//                            Prism, and logged with "injected": true. A test plays a read-only token, a rate
//                            limit or an outage this way;
//   DELETE /__mock/faults    no more faults.
//
// usage: node proxy.mjs --listen PORT --upstream PORT --log FILE [--routes FILE]     (all on 127.0.0.1)
import http from 'node:http';
import zlib from 'node:zlib';
import { appendFileSync, readFileSync } from 'node:fs';

const MAX_BODY = 16 << 20; // request and error bodies kept for the log
const KEEP_ACCEPT = /vnd\.github(\.v3)?\.(diff|patch|sha|raw|html|text)\b/;

function parseArgs(argv) {
  const o = { listen: 4010, upstream: 4011, log: 'requests.jsonl', routes: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${k}: missing value`);
    if (k === '--listen') o.listen = Number(v);
    else if (k === '--upstream') o.upstream = Number(v);
    else if (k === '--log') o.log = v;
    else if (k === '--routes') o.routes = v;
    else throw new Error(`unknown flag ${k}`);
  }
  return o;
}

// Route templates (/repos/{owner}/{repo}/pulls/{pull_number}/files) -> matchers.
export function compileRoutes(routes) {
  return routes.map((r) => {
    const names = [];
    const src = r.path.split(/(\{[^}]+\})/).map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m) { names.push(m[1]); return '([^/]+)'; }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }).join('');
    return { ...r, names, re: new RegExp(`^${src}/?$`) };
  });
}

// The scenario answer for a request, or null.
export function pickAnswer(compiled, method, url) {
  const path = url.split('?')[0];
  for (const r of compiled) {
    if (r.method !== method) continue;
    const m = r.re.exec(path);
    if (!m) continue;
    const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
    for (const a of r.answers) {
      if (Object.entries(a.match).every(([k, v]) => params[k] === v)) return { operationId: r.operationId, ...a };
    }
  }
  return null;
}

function decode(buf, headers) {
  try {
    const enc = (headers['content-encoding'] || '').toLowerCase();
    if (enc === 'gzip') buf = zlib.gunzipSync(buf);
    else if (enc === 'br') buf = zlib.brotliDecompressSync(buf);
    else if (enc === 'deflate') buf = zlib.inflateSync(buf);
  } catch { /* keep the raw bytes */ }
  const text = buf.toString('utf-8');
  if (text === '') return null;
  try { return JSON.parse(text); } catch { return text; }
}

function collect(stream, limit, done) {
  const chunks = [];
  let size = 0;
  stream.on('data', (c) => { size += c.length; if (size <= limit) chunks.push(c); });
  stream.on('end', () => done(Buffer.concat(chunks), size > limit));
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const routes = opts.routes ? compileRoutes(JSON.parse(readFileSync(opts.routes, 'utf-8'))) : [];
  const log = (entry) => appendFileSync(opts.log, JSON.stringify(entry) + '\n');
  let faults = [];

  const server = http.createServer((req, res) => {
    if (req.url === '/__mock/health') {
      const probe = http.get({ host: '127.0.0.1', port: opts.upstream, path: '/__mock/health' }, (ur) => {
        ur.resume();
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      });
      probe.on('error', (e) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`prism not up: ${e.message}\n`));
      return;
    }
    if (req.url === '/__mock/faults') {
      if (req.method === 'DELETE') { faults = []; res.writeHead(204).end(); return; }
      if (req.method !== 'PUT') { res.writeHead(405).end(); return; }
      collect(req, MAX_BODY, (body) => {
        try {
          const list = JSON.parse(body.toString('utf-8'));
          if (!Array.isArray(list)) throw new Error('want a JSON list of faults');
          faults = list.map((f) => ({ ...f, re: new RegExp(f.path ?? '.*'), left: f.times ?? Infinity }));
          res.writeHead(204).end();
        } catch (e) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`faults: ${e.message}\n`);
        }
      });
      return;
    }
    collect(req, MAX_BODY, (body, truncated) => {
      const headers = { ...req.headers };
      const accept = headers.accept ?? '';
      if (/application\/vnd\.github/.test(accept) && !KEEP_ACCEPT.test(accept)) headers.accept = 'application/json';
      const answer = headers.prefer ? null : pickAnswer(routes, req.method, req.url);
      if (answer) headers.prefer = `code=${answer.status}, example=${answer.example}`;
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
      const entry = {
        time: new Date().toISOString(),
        method: req.method,
        path: req.url,
        status: 0,
        accept: req.headers.accept ?? null,
        authorization: Boolean(req.headers.authorization),
        api_version: req.headers['x-github-api-version'] ?? null,
        content_type: req.headers['content-type'] ?? null,
        user_agent: req.headers['user-agent'] ?? null,
        scenario: answer ? `${answer.operationId} ${answer.key}` : null,
        body: truncated ? `<${body.length}+ bytes, not kept>` : decode(body, req.headers),
      };
      const path = req.url.split('?')[0];
      const fault = faults.find((f) => f.left > 0 && (!f.method || f.method === req.method) && f.re.test(path));
      if (fault) {
        fault.left--;
        const payload = JSON.stringify(fault.body ?? { message: 'injected fault' });
        entry.status = fault.status;
        entry.injected = true;
        entry.response = fault.body ?? null;
        log(entry);
        res.writeHead(fault.status, { 'content-type': 'application/json; charset=utf-8', ...(fault.headers ?? {}) }).end(payload);
        return;
      }
      // GitHub's {path} in /repos/{owner}/{repo}/contents/{path} spans several segments (models/config.json);
      // Prism matches one segment per parameter, so the slashes inside it are encoded for Prism only.
      const upstreamPath = req.url.replace(/^(\/repos\/[^/]+\/[^/]+\/contents\/)([^?]+)/, (_, pre, rest) => pre + rest.split('/').join('%2F'));
      const up = http.request({ host: '127.0.0.1', port: opts.upstream, method: req.method, path: upstreamPath, headers }, (ur) => {
        entry.status = ur.statusCode;
        if (ur.statusCode >= 400) {
          collect(ur, MAX_BODY, (rbody) => {
            entry.response = decode(rbody, ur.headers);
            log(entry);
            res.writeHead(ur.statusCode, ur.headers).end(rbody);
          });
          return;
        }
        log(entry);
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (e) => {
        entry.status = 502;
        entry.response = { message: `proxy: upstream error: ${e.message}` };
        log(entry);
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify(entry.response));
      });
      up.end(body);
    });
  });
  server.listen(opts.listen, '127.0.0.1', () => {
    console.error(`proxy listening on http://127.0.0.1:${opts.listen} -> 127.0.0.1:${opts.upstream}, ${routes.length} scenario routes, log ${opts.log}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try { main(); } catch (e) { console.error(`proxy: ${e.message}`); process.exit(2); }
}
