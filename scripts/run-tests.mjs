#!/usr/bin/env node
// Runs every package's tests in dependency order, streams their output prefixed with the package name, and ends
// with one summary that counts the tests of all packages, so a CI log shows the total at a glance.
//
// Each package runs whatever happened to the ones before it: lerna's task runner (Nx) skips the packages that
// depend on a failed one even with --no-bail, which hid most of the suite behind one failing test. So this script
// takes lerna's order (private packages included: the cross-package tests are one) and runs `npm test` in each
// package itself. Extra arguments select packages by name.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const only = process.argv.slice(2);
const listed = JSON.parse(
  execFileSync('npx', ['lerna', 'list', '--all', '--toposort', '--json'], { encoding: 'utf8' }),
);
const hasTests = (p) => JSON.parse(readFileSync(path.join(p.location, 'package.json'), 'utf8')).scripts?.test;
const packages = listed.filter((p) => (only.length === 0 || only.includes(p.name)) && hasTests(p));

const totals = { passed: 0, failed: 0, skipped: 0 };
const failedPackages = [];

/** Adds the counts of ava's summary lines ("12 tests passed") in `line` to `counts`. */
function count(line, counts) {
  // eslint-disable-next-line no-control-regex -- strips the ANSI escapes of progress output
  const plain = line.replace(/\u001b\[[0-9;]*m/g, '');
  for (const key of ['passed', 'failed', 'skipped']) {
    const match = new RegExp(`\\b(\\d+) tests? ${key}\\b`).exec(plain);
    if (match) counts[key] += Number(match[1]);
  }
}

function runPackage(pkg) {
  return new Promise((resolve) => {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const child = spawn('npm', ['test'], { cwd: pkg.location, stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = `${pkg.name}: `;
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.on('data', (chunk) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          (stream === child.stdout ? process.stdout : process.stderr).write(prefix + line + '\n');
          count(line, counts);
        }
      });
      stream.on('end', () => {
        if (buffered) process.stdout.write(prefix + buffered + '\n');
        count(buffered, counts);
      });
    }
    child.on('close', (code) => resolve({ code: code ?? 1, counts }));
  });
}

for (const pkg of packages) {
  console.log(`\n> ${pkg.name} (${path.relative(process.cwd(), pkg.location) || '.'})`);
  const { code, counts } = await runPackage(pkg);
  for (const key of Object.keys(totals)) totals[key] += counts[key];
  // A package can fail without a failed test (a crash, an uncaught exception, a missing file).
  if (code !== 0) failedPackages.push(`${pkg.name} (exit ${code})`);
}

const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
console.log(`\nall packages: ${totals.passed} passed, ${totals.failed} failed${skipped}`);
if (failedPackages.length > 0) console.log(`failed packages: ${failedPackages.join(', ')}`);
process.exit(failedPackages.length > 0 ? 1 : 0);
