/**
 * This package's public surface is checked in (api/*.api.md, written by core's API report script with --package):
 * a build whose exports differ fails here, with the command that updates the reports when the change is intended.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(packageDir, '..', 'core', 'scripts', 'api-report.mjs');

test('the checked-in API reports match the build', (t) => {
  const result = spawnSync(process.execPath, [script, '--check', '--package', packageDir], { encoding: 'utf8' });
  t.is(result.status, 0, result.stderr);
});

test('test and benchmark probes are in /testing, not in the root entry point', async (t) => {
  const root = (await import('@rwseg/tfjs-training-backends')) as Record<string, unknown>;
  const testing = (await import('@rwseg/tfjs-training-backends/testing')) as Record<string, unknown>;
  for (const name of ['probeUnetGradients', 'seededUniform', 'compareBackends', 'vulkanSkipReason']) {
    t.false(name in root, name);
    t.is(typeof testing[name], 'function', name);
  }
  t.is(typeof root['useBackend'], 'function');
});
