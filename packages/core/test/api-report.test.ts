/**
 * The public surface of each entry point is checked in (api/*.api.md): a build whose exports differ fails here,
 * with the command that updates the reports when the change is intended.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(packageDir, 'scripts', 'api-report.mjs');
const check = (...extra: string[]) => spawnSync(process.execPath, [script, '--check', ...extra], { encoding: 'utf8' });

test('the checked-in API reports match the build (update: node packages/core/scripts/api-report.mjs)', (t) => {
  const result = check();
  t.is(result.status, 0, result.stderr);
});

test('a report that lacks a name, or a missing report, is caught naming the entry point', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rwseg-api-'));
  cpSync(path.join(packageDir, 'api'), dir, { recursive: true });
  const plugin = path.join(dir, 'plugin.api.md');
  writeFileSync(plugin, readFileSync(plugin, 'utf8').replace('| definePlugin | function |\n', ''));
  const result = check('--api-dir', dir);
  t.is(result.status, 1);
  t.regex(result.stderr, /differ from the build for: plugin;/);
  t.regex(readFileSync(path.join(packageDir, 'api', 'plugin.api.md'), 'utf8'), /\| definePlugin \| function \|/);
});

test('the plugin entry point is the short list a plugin author needs', async (t) => {
  const plugin = (await import('@rwseg/core/plugin')) as Record<string, unknown>;
  for (const name of [
    'definePlugin',
    'defineLoss',
    'defineMap',
    'lossVocabulary',
    'reduceClassTerms',
    'checkProbsAndTarget',
    'tf',
    'z',
  ]) {
    t.truthy(plugin[name], name);
  }
  // Internals of training and data loading stay out of it.
  for (const name of ['train', 'createLoader', 'batchTransferList', 'TOKENS']) t.false(name in plugin, name);
});

test('the root is what a library user needs; internals and test helpers stay out of it', async (t) => {
  const root = (await import('@rwseg/core')) as Record<string, unknown>;
  for (const name of ['createRegistry', 'buildLoss', 'readVolume', 'runPipelineConfig', 'train', 'segmentImage']) {
    t.truthy(root[name], name);
  }
  for (const name of ['hashSeed', 'TOKENS', 'oneHotInto', 'batchTransferList', 'locateShared', 'COMMIT_STEPS', 'z']) {
    t.false(name in root, name);
  }
  // The container's tokens are reachable where the composition root is, for the CLI and tests that swap a service.
  const services = (await import('@rwseg/core/services')) as Record<string, unknown>;
  t.truthy(services.TOKENS);
});

test('every report opens with what its entry point is for (the entry file header)', (t) => {
  for (const file of readdirSync(path.join(packageDir, 'api'))) {
    const lines = readFileSync(path.join(packageDir, 'api', file), 'utf8').split('\n');
    const specifier = lines[0]!.replace('# API report: ', '');
    t.true(lines[2]!.startsWith(`\`${specifier}\``), `${file}: ${lines[2]}`);
  }
});
