/**
 * The packages as a user gets them (issue 17, item 7): every workspace packed with `npm pack` (its prepack builds it
 * and writes the CLI's oclif manifest), the tarballs installed into a fresh project from the npm registry with the
 * documented onnxruntime-node setting (ONNXRUNTIME_NODE_INSTALL=skip), then `npx rwseg --version`, `rwseg plugins`,
 * a one-epoch synthetic training and the README's "As a library" snippet, all run from that project.
 * Slow by nature (about a minute to install with a warm npm cache); each step's time goes to the test log.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@rwseg/test-helpers/cli';
import { sets, TINY_2D } from '@rwseg/test-helpers/command-lines';

const run = promisify(execFile);

/** Every publishable workspace: the root's workspaces but this test package. */
function publishableWorkspaces(): string[] {
  const root = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return root.workspaces
    .flatMap((pattern) => {
      if (!pattern.endsWith('/*')) return [pattern];
      const dir = pattern.slice(0, -2);
      return readdirSync(path.join(REPO_ROOT, dir)).map((name) => `${dir}/${name}`);
    })
    .filter((dir) => existsSync(path.join(REPO_ROOT, dir, 'package.json')))
    .filter(
      (dir) =>
        !(JSON.parse(readFileSync(path.join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { private?: boolean }).private,
    );
}

/** The code block under README.md's "## As a library". */
export function readmeLibrarySnippet(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('As a library'));
  const block = section && /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no ```ts block under "## As a library"');
  return block[1]!;
}

/**
 * The snippet as a runnable module: its undefined inputs (probs, target, maps, epoch) made just before the
 * compute call, from a tiny 2-class label image and the maps the loss asks for, and the value printed.
 */
function runnableSnippet(snippet: string): string {
  const at = snippet.indexOf('const value = loss.compute(');
  if (at < 0) throw new Error('the README snippet no longer calls loss.compute: update this test with it');
  const inputs = `
const shape = [8, 8];
const labels = Array.from({ length: 64 }, (_, i) => (i % 8 > 2 && i % 8 < 6 && i > 16 && i < 48 ? 1 : 0));
const target = tf.cast(tf.oneHot(tf.tensor(labels, [1, ...shape], 'int32'), 2), 'float32');
const probs = tf.softmax(tf.randomNormal([1, ...shape, 2], 0, 1, 'float32', 7));
const maps = {};
for (const request of loss.requiredMaps) {
  const map = registry.createMapGenerator(request.map, request.options).generate({ labels, shape, numClasses: 2, spacing: [1, 1] });
  maps[request.key] = tf.tensor(map, [1, ...shape, 2]);
}
const epoch = 0;
`;
  const result = `\nprocess.stdout.write(JSON.stringify({ value: (await value.data())[0] }) + '\\n');\n`;
  return snippet.slice(0, at) + inputs + snippet.slice(at) + result;
}

test('the packed packages install in a fresh project and run: --version, plugins, a training, the library snippet', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'rwseg-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const value = await step();
    t.log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return value;
  };
  const tarballs = path.join(work, 'tarballs');
  mkdirSync(tarballs);
  const workspaces = publishableWorkspaces();
  t.true(workspaces.length >= 14, workspaces.join(', '));
  await timed(`npm pack (${workspaces.length} packages)`, () =>
    run('npm', ['pack', ...workspaces.flatMap((w) => ['--workspace', w]), '--pack-destination', tarballs], {
      cwd: REPO_ROOT,
      maxBuffer: 64 << 20,
    }),
  );
  const packed = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  t.is(packed.length, workspaces.length, packed.join(', '));
  // What a registry would publish: the licence, the CLI's oclif manifest, and no tests.
  for (const file of packed) {
    const { stdout } = await run('tar', ['tzf', path.join(tarballs, file)], { maxBuffer: 16 << 20 });
    t.true(stdout.includes('package/LICENSE\n'), `${file} has a LICENSE`);
    t.false(/package\/(dist\/)?test\//.test(stdout), `${file} ships no tests`);
    if (file.startsWith('rwseg-cli-'))
      t.true(stdout.includes('package/oclif.manifest.json\n'), 'the CLI has its manifest');
  }
  t.false(existsSync(path.join(REPO_ROOT, 'packages', 'cli', 'oclif.manifest.json')), 'postpack removed the manifest');

  const project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'my-segmentation', private: true, type: 'module' }),
  );
  // The setting docs/gpu.md and the README give: onnxruntime-node's install script would fetch CUDA files from NuGet.
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const npmArgs = [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    ...packed.map((f) => path.join(tarballs, f)),
  ];
  await timed('npm install of the tarballs', () => run('npm', npmArgs, { cwd: project, env, maxBuffer: 64 << 20 }));

  const rwseg = (args: string[]) =>
    run('npx', ['--no-install', 'rwseg', ...args], { cwd: project, env, maxBuffer: 64 << 20 });
  const version = await timed('rwseg --version', () => rwseg(['--version']));
  t.regex(version.stdout, /^@rwseg\/cli\/0\.1\.0 /);
  const plugins = await timed('rwseg plugins', () => rwseg(['plugins', '--json']));
  const names = (JSON.parse(plugins.stdout) as { plugins: { name: string }[] }).plugins.map((p) => p.name);
  t.true(
    names.includes('@rwseg/plugin-loss-region-wise') && names.includes('@rwseg/plugin-maps-distance'),
    names.join(),
  );
  const tiny = [...TINY_2D, ...sets({ 'export.onnx': 'false' })];
  const trained = await timed('rwseg train, one epoch', () =>
    rwseg([
      'train',
      '--synthetic',
      '--epochs',
      '1',
      '--iterations',
      '1',
      '--backend',
      'wasm',
      ...tiny,
      '--out',
      'runs/one',
      '--json',
    ]),
  );
  t.is((JSON.parse(trained.stdout) as { epochsRun: number }).epochsRun, 1);
  t.true(existsSync(path.join(project, 'runs', 'one', 'model', 'rwseg.json')));

  const snippet = readmeLibrarySnippet(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  writeFileSync(path.join(project, 'library.mjs'), runnableSnippet(snippet));
  const library = await timed('README library snippet', () =>
    run(process.execPath, ['library.mjs'], { cwd: project, env }),
  );
  const { value } = JSON.parse(library.stdout.trim().split('\n').pop()!) as { value: number };
  t.true(Number.isFinite(value), `loss value ${value}`);
});
