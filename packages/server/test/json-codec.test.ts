/**
 * The JSON tensor fast paths (issue 16, part 6): typed-array text equals JSON.stringify's for every value, the
 * iterative reader equals a flat read, and an answer of more than 2^20 JSON elements is streamed on the socket
 * and still equals onnxruntime called directly.
 */
import test from 'ava';
import { readJsonData, jsonListText } from '../src/json-tensor.js';
import { rawRequest, runDirect, seededFloats, startTestServer } from './helpers.js';

test('jsonListText writes exactly what JSON.stringify writes for floats (non-finite as null), ints and bools', (t) => {
  const special = [0, -0, 1e-45, 3.4e38, -1.5, 0.1, 1 / 3, 123456789, 2 ** -20, NaN, Infinity, -Infinity];
  const f32 = Float32Array.from([...special, ...seededFloats(1000, 9)]);
  t.is(jsonListText(f32, false), JSON.stringify(Array.from(f32)));
  const f64 = Float64Array.from([...special, Math.PI, 5e-324]);
  t.is(jsonListText(f64, false), JSON.stringify(Array.from(f64)));
  const i32 = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31)]);
  t.is(jsonListText(i32, false), JSON.stringify(Array.from(i32)));
  t.is(jsonListText(new Uint8Array([1, 0, 1]), true), '[true,false,true]');
  // BigInt elements come out exactly, beyond 2^53 too.
  t.is(jsonListText(BigInt64Array.from([0n, -5n, 2n ** 60n]), false), `[0,-5,${2n ** 60n}]`);
  t.is(jsonListText(new Float32Array(0), false), '[]');
});

test('readJsonData reads nested data row-major exactly as flat data, and checks integer ranges', (t) => {
  const flat = Array.from({ length: 24 }, (_, i) => i - 5.5);
  const nested = [0, 1].map((a) => [0, 1, 2].map((b) => [0, 1, 2, 3].map((c) => flat[a * 12 + b * 4 + c])));
  t.deepEqual(readJsonData(nested, 'FP32', 24, 3, 'x', '[2,3,4]'), readJsonData(flat, 'FP32', 24, 3, 'x', '[2,3,4]'));
  t.deepEqual(Array.from(readJsonData(nested, 'FP64', 24, 3, 'x', '[2,3,4]') as Float64Array), flat);
  t.throws(() => readJsonData([1, 300], 'UINT8', 2, 1, 'x', '[2]'), {
    message: /element 1 \(300\) is not a UINT8 integer in \[0, 255\]/,
  });
  t.throws(() => readJsonData([1, 2.5], 'INT32', 2, 1, 'x', '[2]'), {
    message: /element 1 \(2.5\) is not a INT32 integer/,
  });
  t.deepEqual(Array.from(readJsonData([[true], [false]], 'BOOL', 2, 2, 'x', '[2,1]') as Uint8Array), [1, 0]);
  t.throws(() => readJsonData([[1, 2], [3]], 'FP32', 4, 2, 'x', '[2,2]'), {
    message: /3 elements for shape \[2,2\] \(needs 4\)/,
  });
});

test('a JSON answer of more than 2^20 elements is streamed (chunked) and equals onnxruntime', async (t) => {
  const { server, url } = await startTestServer();
  try {
    const [h, w] = [600, 600];
    const image = seededFloats(h * w, 5);
    const body = JSON.stringify({
      inputs: [{ name: 'image', shape: [1, h, w, 1], datatype: 'FP32', data: Array.from(image) }],
    });
    const res = await rawRequest(`${url}/v2/models/seg2d/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    t.is(res.status, 200);
    t.is(res.headers['transfer-encoding'], 'chunked');
    t.regex(String(res.headers['content-type']), /application\/json/);
    const json = JSON.parse(res.body.toString());
    t.deepEqual(json.outputs[0].shape, [1, h, w, 3]);
    const direct = await runDirect('seg2d', { image: { data: image, dims: [1, h, w, 1] } });
    t.deepEqual(Float32Array.from(json.outputs[0].data), direct.probabilities.data as Float32Array);
  } finally {
    await server.close({ drainMs: 0 });
  }
});
