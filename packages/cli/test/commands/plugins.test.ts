import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeUserProject, MSE_PLUGIN_SOURCE, writePluginPackage } from '@rwseg/test-helpers/user-project';
import { errorText, parseJson, REPO_ROOT, runCli } from '@rwseg/test-helpers/cli';

test('rwseg plugins --json lists every built-in plugin', async (t) => {
  const result = await runCli(['plugins', '--json']);
  t.is(result.code, 0, result.stderr);
  const listing = parseJson<{ plugins: { name: string }[] }>(result);
  const names = listing.plugins.map((p) => p.name);
  for (const builtin of [
    'maps-distance',
    'maps-active-contour',
    'loss-cross-entropy',
    'loss-dice',
    'loss-focal',
    'loss-boundary',
    'loss-region-wise',
  ]) {
    t.true(names.includes(`@rwseg/plugin-${builtin}`), builtin);
  }
});

test('rwseg --version and --help work', async (t) => {
  const version = await runCli(['--version']);
  t.is(version.code, 0);
  t.regex(version.stdout, /@rwseg\/cli\/\d+\.\d+\.\d+/);
  const help = await runCli(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /plugins/);
});

test('a third-party plugin written outside the repo loads from a path and from package.json by name', async (t) => {
  const project = makeUserProject({ rwseg: { plugins: ['rwseg-plugin-mse-installed'] } });
  writePluginPackage(path.join(project, 'my-plugin'), 'rwseg-plugin-mse', MSE_PLUGIN_SOURCE);
  // The same plugin, "installed" under another name, referenced from the project's package.json.
  writePluginPackage(
    path.join(project, 'node_modules', 'rwseg-plugin-mse-installed'),
    'rwseg-plugin-mse-installed',
    MSE_PLUGIN_SOURCE.replaceAll('squared-error', 'squared-error-2').replace(
      "name: 'rwseg-plugin-mse'",
      "name: 'rwseg-plugin-mse-installed'",
    ),
  );

  const result = await runCli(['plugins', '--json', '--plugin', './my-plugin'], { cwd: project });
  t.is(result.code, 0, result.stderr);
  const listing = parseJson<{
    plugins: { name: string; source: string }[];
    losses: { name: string; plugin: string; options: any }[];
  }>(result);
  const mine = listing.plugins.find((p) => p.name === 'rwseg-plugin-mse');
  t.is(mine?.source, path.join(project, 'my-plugin'));
  t.truthy(listing.plugins.find((p) => p.name === 'rwseg-plugin-mse-installed'));
  const loss = listing.losses.find((l) => l.name === 'squared-error');
  t.is(loss?.plugin, 'rwseg-plugin-mse');
  t.is(loss?.options.properties.scale.default, 1);

  const inspect = await runCli(['plugins', 'inspect', 'squared-error-2', '--json'], { cwd: project });
  t.is(inspect.code, 0, inspect.stderr);
  t.is(parseJson(inspect).plugin, 'rwseg-plugin-mse-installed');
});

test('plugin errors reach the user as one clear line and a non-zero exit', async (t) => {
  const project = makeUserProject();
  writePluginPackage(path.join(project, 'dup'), 'dup', MSE_PLUGIN_SOURCE);
  writePluginPackage(
    path.join(project, 'dup2'),
    'dup2',
    MSE_PLUGIN_SOURCE.replace("name: 'rwseg-plugin-mse'", "name: 'other'"),
  );

  const missing = await runCli(['plugins', '--plugin', './nowhere'], { cwd: project });
  t.is(missing.code, 2);
  t.regex(errorText(missing), /cannot load plugin .*nowhere.*no such file or directory/);

  const duplicate = await runCli(['plugins', '--plugin', './dup', '--plugin', './dup2'], { cwd: project });
  t.is(duplicate.code, 2);
  t.regex(
    errorText(duplicate),
    /loss 'squared-error' from plugin 'other'.*already registered by plugin 'rwseg-plugin-mse'/s,
  );

  const unknown = await runCli(['plugins', 'inspect', 'no-such-thing', '--json'], { cwd: project });
  t.is(unknown.code, 2);
  t.is(parseJson(unknown).error.code, 'UNKNOWN_NAME');
});

test('the CLI package lists no plugins of its own: rwseg plugins runs from its folder, and it depends on every built-in', async (t) => {
  const { BUILTIN_PLUGINS } = await import('@rwseg/core');
  const cliDir = path.join(REPO_ROOT, 'packages', 'cli');
  type Manifest = { dependencies: Record<string, string>; rwseg?: unknown };
  const manifest = JSON.parse(readFileSync(path.join(cliDir, 'package.json'), 'utf8')) as Manifest;
  t.is(manifest.rwseg, undefined, 'no "rwseg.plugins" section re-listing the built-ins');
  // Installing @rwseg/cli must bring every built-in plugin along (core loads them by name).
  for (const name of BUILTIN_PLUGINS) t.truthy(manifest.dependencies[name], name);
  const result = await runCli(['plugins', '--json'], { cwd: cliDir });
  t.is(result.code, 0, errorText(result));
  t.is(parseJson<{ plugins: unknown[] }>(result).plugins.length, BUILTIN_PLUGINS.length);
});
