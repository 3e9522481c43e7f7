/**
 * `useBackend('auto')` keeps Dawn's and the Vulkan loader's native stderr warnings to itself when it passes webgpu
 * over (issue 17): they are written from C++ to fd 2, so only a fresh process shows whether they leak.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = pathToFileURL(fileURLToPath(new URL('../src/index.js', import.meta.url))).href;
const NATIVE_NOISE = /^Warning:|vkCreateInstance|maxDynamic|loader_get_json/m;

function autoBackendStderr(level: 'info' | 'debug', env: NodeJS.ProcessEnv = {}): { stderr: string; backend: string } {
  // A stderr logger like the CLI's: one line per message at or above the level.
  const script = `const backends = await import(${JSON.stringify(entry)});
const order = { debug: 0, info: 1, warn: 2 };
const at = (name) => (message, fields) => {
  if (order[name] >= order[${JSON.stringify(level)}]) process.stderr.write(name + ': ' + message + ' ' + JSON.stringify(fields ?? {}) + '\\n');
};
const name = await backends.useBackend('auto', { logger: { debug: at('debug'), info: at('info'), warn: at('warn') } });
process.stdout.write(name, () => process.exit(0));`;
  const args = ['--input-type=module', '-e', script];
  const result = spawnSync(process.execPath, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`child failed (${result.status}): ${result.stderr}`);
  return { stderr: result.stderr, backend: result.stdout.trim() };
}

for (const [title, env] of [
  ['with whatever Vulkan driver this machine has (lavapipe on CI)', {}],
  ['without a Vulkan driver', { VK_ICD_FILENAMES: '/nonexistent.json', VK_DRIVER_FILES: '/nonexistent.json' }],
] as const) {
  test(`auto backend prints no native Dawn/Vulkan warnings ${title}`, (t) => {
    const { stderr, backend } = autoBackendStderr('info', env);
    if (backend === 'webgpu' || backend === 'tensorflow') {
      t.log(`auto picked ${backend} on this machine: the passed-over case is not exercised here`);
      t.pass();
      return;
    }
    t.notRegex(stderr, NATIVE_NOISE);
    t.regex(stderr, new RegExp(`backend: ${backend} \\(auto`));
    // The info line stays short: the skipped backends' reasons are at debug.
    const line = stderr.split('\n').find((l) => l.includes('backend: '))!;
    t.true(line.length < 400, line);
  });
}

test('--log-level debug shows why webgpu was passed over', (t) => {
  const noDriver = { VK_ICD_FILENAMES: '/nonexistent.json', VK_DRIVER_FILES: '/nonexistent.json' };
  const { stderr, backend } = autoBackendStderr('debug', noDriver);
  if (backend === 'webgpu' || backend === 'tensorflow') return t.pass();
  t.regex(stderr, /debug: backend webgpu not usable/);
});
