#!/usr/bin/env node
// Runs every package's tests in dependency order (lerna), streams their output, and ends with one summary line
// that counts the tests of all packages, so a CI log shows the total at a glance.
import { spawn } from 'node:child_process';

// --no-bail: one package's failure must not hide the results of the others.
const args = ['lerna', 'run', 'test', '--concurrency', '1', '--stream', '--no-bail', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NX_DAEMON: 'false' } });
let passed = 0;
let failed = 0;
let skipped = 0;
let buffered = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffered += chunk.toString();
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const raw of lines) {
    // eslint-disable-next-line no-control-regex -- strips the ANSI escapes of progress output
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '');
    const pass = /\b(\d+) tests? passed\b/.exec(line);
    const fail = /\b(\d+) tests? failed\b/.exec(line);
    if (pass) passed += Number(pass[1]);
    if (fail) failed += Number(fail[1]);
    const skip = /\b(\d+) tests? skipped\b/.exec(line);
    if (skip) skipped += Number(skip[1]);
  }
});
child.on('close', (code) => {
  console.log(`\nall packages: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code ?? 1);
});
