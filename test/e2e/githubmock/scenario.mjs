#!/usr/bin/env node
// Turn the e2e test's pull requests (test/e2e/testdata/prs.json, which the Go test also reads to build its
// checkouts) into a scenario file for trim-spec.mjs: per pull request the files the PR files API lists and
// the comments the issue comments API lists.
//
// usage: node scenario.mjs [PRS.json] > scenario.json
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const prsPath = process.argv[2] ?? join(here, '../testdata/prs.json');
const prs = JSON.parse(readFileSync(prsPath, 'utf-8'));
const repo = prs.repository;
const [owner] = repo.split('/');
const headSha = 'e2e0000000000000000000000000000000000000'; // URLs only; the test's checkout has its own

function content(f) {
  return f.from ? readFileSync(join(root, f.from)) : Buffer.from(f.text ?? '');
}

// The git blob id, as the API reports it.
function blobSha(buf) {
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

function user(login, type) {
  const id = type === 'Bot' ? 41898282 : 583231;
  return {
    login, id, node_id: type === 'Bot' ? 'MDM6Qm90NDE4OTgyODI=' : 'MDQ6VXNlcjU4MzIzMQ==',
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`, gravatar_id: '',
    url: `https://api.github.com/users/${encodeURIComponent(login)}`, html_url: `https://github.com/${encodeURIComponent(login)}`,
    followers_url: `https://api.github.com/users/${encodeURIComponent(login)}/followers`,
    following_url: `https://api.github.com/users/${encodeURIComponent(login)}/following{/other_user}`,
    gists_url: `https://api.github.com/users/${encodeURIComponent(login)}/gists{/gist_id}`,
    starred_url: `https://api.github.com/users/${encodeURIComponent(login)}/starred{/owner}{/repo}`,
    subscriptions_url: `https://api.github.com/users/${encodeURIComponent(login)}/subscriptions`,
    organizations_url: `https://api.github.com/users/${encodeURIComponent(login)}/orgs`,
    repos_url: `https://api.github.com/users/${encodeURIComponent(login)}/repos`,
    events_url: `https://api.github.com/users/${encodeURIComponent(login)}/events{/privacy}`,
    received_events_url: `https://api.github.com/users/${encodeURIComponent(login)}/received_events`,
    type, site_admin: false,
  };
}

const listFiles = {};
const listComments = { default: { status: 200, value: [] } };
for (const [number, pr] of Object.entries(prs.pulls)) {
  listFiles[`pull_number=${number}`] = {
    status: 200,
    value: pr.files.map((f) => {
      const buf = content(f);
      return {
        sha: blobSha(buf), filename: f.path, status: f.status ?? 'added',
        additions: 0, deletions: 0, changes: 0, // binary files: GitHub reports 0 and no patch
        blob_url: `https://github.com/${repo}/blob/${headSha}/${f.path}`,
        raw_url: `https://github.com/${repo}/raw/${headSha}/${f.path}`,
        contents_url: `https://api.github.com/repos/${repo}/contents/${f.path}?ref=${headSha}`,
      };
    }),
  };
  listComments[`issue_number=${number}`] = {
    status: 200,
    value: (pr.comments ?? []).map((c) => ({
      id: c.id, node_id: Buffer.from(`012:IssueComment${c.id}`).toString('base64'),
      url: `https://api.github.com/repos/${repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${repo}/pull/${number}#issuecomment-${c.id}`,
      body: c.body, user: user(c.user, c.type ?? 'User'),
      created_at: '2026-01-02T03:04:05Z', updated_at: '2026-01-02T03:04:05Z',
      issue_url: `https://api.github.com/repos/${repo}/issues/${number}`,
      author_association: c.type === 'Bot' ? 'NONE' : 'MEMBER',
    })),
  };
}
process.stdout.write(JSON.stringify({
  'x-generated-from': prsPath, 'x-owner': owner,
  'pulls/list-files': listFiles,
  'issues/list-comments': listComments,
}, null, 2) + '\n');
