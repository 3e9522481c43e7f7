#!/usr/bin/env node
/**
 * Rewrites a file's `import { ... } from '@rwseg/core'` statements so that each name comes from the entry point
 * that holds it, read from the checked-in API reports (api/*.api.md): a job's sub-path first, the root for the
 * names only it holds, one import line per entry point. For code written against the old all-names root.
 *
 *   node packages/core/scripts/route-imports.mjs FILE...    # then: npx prettier --write FILE...
 *
 * Only the file's own import block is read: a plugin's source inside a template string below it is left alone
 * (point it at '@rwseg/core/plugin' by hand).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'api');
/** Entry names ('core' is the root) that hold each exported name. */
const holders = {};
for (const file of readdirSync(apiDir)) {
  const entry = file.replace('.api.md', '');
  for (const line of readFileSync(path.join(apiDir, file), 'utf8').split('\n')) {
    const row = /^\| (\w+) \| \w+ \|$/.exec(line);
    if (row && row[1] !== 'name') (holders[row[1]] ??= new Set()).add(entry);
  }
}
const entries = Object.keys(Object.fromEntries(readdirSync(apiDir).map((f) => [f.replace('.api.md', ''), 1])));
// The jobs' sub-paths come before the root; /plugin and /testing only when nothing else holds a name.
const jobs = entries.filter((e) => !['core', 'plugin', 'testing'].includes(e)).sort();
const priority = [...jobs, 'core', 'plugin', 'testing'];
const specifier = (entry) => (entry === 'core' ? '@rwseg/core' : `@rwseg/core/${entry}`);
const importRe = /^import\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@rwseg\/core(?:\/[a-z]+)?)';?[ \t]*\n/gm;

function route(file) {
  const src = readFileSync(file, 'utf8');
  const bodyStart = /^(?!import\b|export\b|\s|\/\/|\/\*|\*|\}|$)/m.exec(src)?.index ?? src.length;
  const found = [...src.matchAll(importRe)].filter((m) => m.index < bodyStart);
  if (!found.some((m) => m[3] === '@rwseg/core')) return false;
  const specs = found.flatMap((m) =>
    m[2]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const text = s.replace(/^type\s+/, '');
        const name = text.split(/\s+as\s+/)[0].trim();
        if (!holders[name]) throw new Error(`${file}: '${name}' is exported by no entry point of @rwseg/core`);
        return {
          name,
          text,
          isType: Boolean(m[1]) || s.startsWith('type '),
          whole: Boolean(m[1]),
          holders: holders[name],
        };
      }),
  );
  const used = new Set(specs.filter((s) => s.holders.size === 1).map((s) => [...s.holders][0]));
  const groups = new Map();
  for (const s of specs) {
    const candidates = [...s.holders];
    const inJobs = candidates.filter((e) => jobs.includes(e));
    const pool = inJobs.length > 0 ? inJobs : candidates;
    // Among several holders, one the file imports from anyway.
    const target = priority.find((e) => used.has(e) && pool.includes(e)) ?? priority.find((e) => pool.includes(e));
    used.add(target);
    if (!groups.has(target)) groups.set(target, []);
    if (!groups.get(target).some((o) => o.text === s.text)) groups.get(target).push(s);
  }
  const order = [...groups.keys()].sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a < b ? -1 : 1));
  const lines = order.map((entry) => {
    const group = groups.get(entry);
    const allTypes = group.every((s) => s.whole);
    const names = group.map((s) => (s.isType && !allTypes ? `type ${s.text}` : s.text)).join(', ');
    return `import ${allTypes ? 'type ' : ''}{ ${names} } from '${specifier(entry)}';\n`;
  });
  let out = src;
  for (let i = found.length - 1; i >= 0; i--) {
    const m = found[i];
    out = out.slice(0, m.index) + (i === 0 ? lines.join('') : '') + out.slice(m.index + m[0].length);
  }
  writeFileSync(file, out);
  return true;
}

for (const file of process.argv.slice(2)) if (route(file)) process.stdout.write(`${file}\n`);
