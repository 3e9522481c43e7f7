/**
 * The entry points a serving or error-reporting process imports load no TF.js: a fresh Node process imports each
 * and lists the CommonJS modules it loaded. A TF.js import slipping into the artifact reader's chain (a config
 * schema that pulls a builder, say) fails here.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';

const HEAVY = /@tensorflow[\\/]|[\\/]dicom-parser[\\/]|[\\/]pngjs[\\/]/;

function modulesLoadedBy(specifier: string): string[] {
  const script =
    `import { createRequire } from 'node:module';` +
    `await import(${JSON.stringify(specifier)});` +
    `console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`importing ${specifier} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

for (const specifier of ['@rwseg/core/base', '@rwseg/core/artifact', '@rwseg/tfjs-training-backends/names']) {
  test(`${specifier} loads no TF.js and no image codecs`, (t) => {
    t.deepEqual(
      modulesLoadedBy(specifier).filter((file) => HEAVY.test(file)),
      [],
    );
  });
}

test('the root entry does load TF.js (the check above can see it)', (t) => {
  t.true(modulesLoadedBy('@rwseg/core').some((file) => /@tensorflow[\\/]tfjs-core/.test(file)));
});
