/**
 * The C exports of the SIMD module are declared once (src/wasm-kernels/simd-exports.ts). These tests hold that
 * table against the C sources and the two checked-in builds, and check that a module out of step with it fails at
 * load naming the export.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { isBackendError } from '../src/errors.js';
import { checkSimdExports } from '../src/wasm-kernels/simd.js';
import { SIMD_EXPORTS } from '../src/wasm-kernels/simd-exports.js';

const simdDir = (file: string): string => fileURLToPath(new URL(`../../simd/${file}`, import.meta.url));

// The WebAssembly API is not in this project's ES2022 lib typings.
interface ModuleExport {
  name: string;
  kind: string;
}
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      Module: { new (b: Uint8Array): object; exports(m: object): ModuleExport[] };
      Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
      Memory: new (descriptor: { initial: number }) => object;
    };
  }
).WebAssembly;

const declared = Object.keys(SIMD_EXPORTS).sort();

test('the table lists exactly the EXPORT(name) functions of the C sources, with their parameter counts', (t) => {
  const found: Record<string, number> = {};
  for (const file of ['kernels.c', 'kernels3d.c', 'winograd3d.c']) {
    const source = readFileSync(simdDir(file), 'utf8');
    // EXPORT(name) is followed by the definition `void name(params) {`.
    for (const match of source.matchAll(/EXPORT\((\w+)\)\s*void\s+(\w+)\s*\(([^)]*)\)/g)) {
      t.is(match[2], match[1], `${file}: EXPORT(${match[1]}) marks ${match[2]}`);
      found[match[1]!] = match[3]!.split(',').filter((p) => p.trim()).length;
    }
  }
  t.deepEqual(Object.keys(found).sort(), declared);
  for (const [name, params] of Object.entries(SIMD_EXPORTS)) t.is(found[name], params.length, name);
});

test('both checked-in builds export exactly the declared functions, and pass the load check', (t) => {
  // The FMA build compiles only with relaxed SIMD, which Node 20 has behind this flag (this test file's process only).
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  for (const file of ['rwseg-kernels.wasm', 'rwseg-kernels-fma.wasm']) {
    const module = new wasmApi.Module(readFileSync(simdDir(file)));
    const functions = wasmApi.Module.exports(module).filter((e) => e.kind === 'function');
    t.deepEqual(functions.map((e) => e.name).sort(), declared, file);
    const instance = new wasmApi.Instance(module, { env: { memory: new wasmApi.Memory({ initial: 16 }) } });
    const kernels = checkSimdExports(instance.exports, file);
    t.is(typeof kernels.winograd3d_conv_244, 'function');
  }
});

test('a module missing an export, or with one of another arity, fails at load naming it', (t) => {
  const exports: Record<string, unknown> = {};
  for (const [name, params] of Object.entries(SIMD_EXPORTS)) {
    exports[name] = new Function(...params, 'return undefined');
  }
  t.notThrows(() => checkSimdExports(exports, 'fake.wasm'));

  const { pad3d: _pad3d, ...missing } = exports;
  const lacking = t.throws(() => checkSimdExports(missing, 'fake.wasm'));
  t.true(isBackendError(lacking, 'BACKEND_ERROR'));
  t.regex(lacking!.message, /fake\.wasm has no export 'pad3d'; rebuild it with .*simd\/build\.sh/);

  const wrongArity = { ...exports, leaky_relu: (x: number, y: number) => x + y };
  const error = t.throws(() => checkSimdExports(wrongArity, 'fake.wasm'));
  t.regex(error!.message, /export 'leaky_relu' takes 2 parameters, simd-exports\.ts declares 4 \(x, y, n, alpha\)/);
});
