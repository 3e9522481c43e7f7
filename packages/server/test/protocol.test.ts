/** The Open Inference Protocol REST routes on a real socket, checked field by field against the spec. */
import test from 'ava';
import { binaryBody, getJson, postJson, runDirect, seededFloats, startTestServer, type TestServer } from './helpers.js';

let t0: TestServer;
test.before(async () => {
  t0 = await startTestServer();
});
test.after.always(async () => {
  await t0?.server.close();
});

const metadataTensorKeys = ['datatype', 'name', 'shape'];

test('GET /v2/health/live and /v2/health/ready answer 200 with $live/$ready responses', async (t) => {
  const live = await getJson(`${t0.url}/v2/health/live`);
  t.is(live.status, 200);
  t.deepEqual(live.json, { live: true });
  const ready = await getJson(`${t0.url}/v2/health/ready`);
  t.is(ready.status, 200);
  t.deepEqual(ready.json, { ready: true });
});

test('GET /v2 is $metadata_server_response and announces the binary tensor extension', async (t) => {
  const { status, json } = await getJson(`${t0.url}/v2`);
  t.is(status, 200);
  t.deepEqual(Object.keys(json).sort(), ['extensions', 'name', 'version']);
  t.is(json.name, 'rwseg');
  t.is(typeof json.version, 'string');
  t.true(json.extensions.includes('binary_tensor_data'));
});

test('GET /v2/models/{name} is $metadata_model_response with shapes from the session (-1 = dynamic)', async (t) => {
  const { status, json } = await getJson(`${t0.url}/v2/models/seg2d`);
  t.is(status, 200);
  t.is(json.name, 'seg2d');
  t.deepEqual(json.versions, ['1']);
  t.is(json.platform, 'onnxruntime_onnx');
  t.deepEqual(json.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, -1, -1, 1] }]);
  t.deepEqual(json.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, -1, -1, 3] }]);
  for (const tensor of [...json.inputs, ...json.outputs]) t.deepEqual(Object.keys(tensor).sort(), metadataTensorKeys);
  t.is(json.rwseg.provider, 'cpu');
  t.deepEqual(json.rwseg.classes, ['background', 'tissue', 'lesion']);
  t.deepEqual(json.rwseg.patchSize, [8, 8]);
});

test('versions: both listed, the highest served by default, each addressable, unknown ones 404', async (t) => {
  const meta = await getJson(`${t0.url}/v2/models/affine`);
  t.deepEqual(meta.json.versions, ['1', '2']);
  t.is(meta.json.rwseg.version, '2');
  const v1 = await getJson(`${t0.url}/v2/models/affine/versions/1`);
  t.is(v1.status, 200);
  t.is(v1.json.rwseg.version, '1');
  const ready = await getJson(`${t0.url}/v2/models/affine/versions/1/ready`);
  t.is(ready.status, 200);
  t.deepEqual(ready.json, { name: 'affine', ready: true });
  const inferV1 = await postJson(`${t0.url}/v2/models/affine/versions/1/infer`, {
    inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }],
  });
  t.is(inferV1.json.model_version, '1');
  for (const path of ['/v2/models/affine/versions/7', '/v2/models/affine/versions/7/ready']) {
    const res = await getJson(`${t0.url}${path}`);
    t.is(res.status, 404, path);
    t.regex(res.json.error, /no version '7'/);
  }
  const post = await postJson(`${t0.url}/v2/models/affine/versions/7/infer`, { inputs: [] });
  t.is(post.status, 404);
});

test('unknown model names and path tricks are 404 with an {"error"} body', async (t) => {
  for (const path of [
    '/v2/models/nope',
    '/v2/models/nope/ready',
    '/v2/models/..%2F..%2Fetc',
    '/v2/models/%2E%2E',
    '/v2/models/seg2d%2F..%2Faffine',
  ]) {
    const res = await getJson(`${t0.url}${path}`);
    t.is(res.status, 404, path);
    t.deepEqual(Object.keys(res.json), ['error'], path);
  }
  const res = await getJson(`${t0.url}/v2/models/nope`);
  t.regex(res.json.error, /unknown model 'nope'; models: affine, seg2d/);
});

test('GET /v2/models/{name}/ready is $ready_model_response', async (t) => {
  const { status, json } = await getJson(`${t0.url}/v2/models/seg2d/ready`);
  t.is(status, 200);
  t.deepEqual(json, { name: 'seg2d', ready: true });
});

test('JSON inference equals onnxruntime called directly; id echoed; $inference_response fields', async (t) => {
  const data = seededFloats(2 * 5 * 3, 7);
  const req = {
    id: 'req-42',
    inputs: [{ name: 'image', shape: [2, 5, 3, 1], datatype: 'FP32', data: Array.from(data) }],
  };
  const { status, json } = await postJson(`${t0.url}/v2/models/seg2d/infer`, req);
  t.is(status, 200);
  t.deepEqual(Object.keys(json).sort(), ['id', 'model_name', 'model_version', 'outputs']);
  t.is(json.id, 'req-42');
  t.is(json.model_name, 'seg2d');
  t.is(json.model_version, '1');
  t.is(json.outputs.length, 1);
  const out = json.outputs[0];
  t.deepEqual(Object.keys(out).sort(), ['data', 'datatype', 'name', 'shape']);
  t.is(out.name, 'probabilities');
  t.is(out.datatype, 'FP32');
  t.deepEqual(out.shape, [2, 5, 3, 3]);
  const direct = await runDirect('seg2d', { image: { data, dims: [2, 5, 3, 1] } });
  t.deepEqual(Float32Array.from(out.data), direct.probabilities.data as Float32Array);
});

test('nested JSON data is read row-major, like flat data', async (t) => {
  const nested = [[[1, 2, 3, 4]], [[5, 6, 7, 8]]].map((r) => r[0]);
  const { json } = await postJson(`${t0.url}/v2/models/affine/infer`, {
    inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: nested }],
  });
  const y = json.outputs.find((o: any) => o.name === 'y');
  t.deepEqual(y.data, [3, 5, 7, 9, 11, 13, 15, 17]);
  t.deepEqual(y.shape, [2, 4]);
});

test('outputs selection returns only the named outputs, in the requested order', async (t) => {
  const inputs = [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, -2, 3, 0.5] }];
  const all = await postJson(`${t0.url}/v2/models/affine/infer`, { inputs });
  t.deepEqual(all.json.outputs.map((o: any) => o.name).sort(), ['neg', 'y']);
  const one = await postJson(`${t0.url}/v2/models/affine/infer`, { inputs, outputs: [{ name: 'neg' }] });
  t.deepEqual(one.json.outputs, [{ name: 'neg', datatype: 'FP32', shape: [1, 4], data: [-1, 2, -3, -0.5] }]);
  t.false('id' in one.json);
});

test('binary tensor extension: binary input and binary output equal onnxruntime directly', async (t) => {
  const data = seededFloats(1 * 6 * 4, 3);
  const header = {
    id: 'bin',
    inputs: [
      { name: 'image', shape: [1, 6, 4, 1], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } },
    ],
    outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
  };
  const { body, headerLength } = binaryBody(header, [data]);
  const res = await fetch(`${t0.url}/v2/models/seg2d/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
    body,
  });
  t.is(res.status, 200);
  const responseHeaderLength = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  t.is(Number(res.headers.get('content-length')), bytes.length);
  const json = JSON.parse(bytes.subarray(0, responseHeaderLength).toString());
  t.is(json.id, 'bin');
  t.deepEqual(json.outputs, [
    { name: 'probabilities', datatype: 'FP32', shape: [1, 6, 4, 3], parameters: { binary_data_size: 6 * 4 * 3 * 4 } },
  ]);
  const tail = bytes.subarray(responseHeaderLength);
  t.is(tail.length, 6 * 4 * 3 * 4);
  const got = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
  const direct = await runDirect('seg2d', { image: { data, dims: [1, 6, 4, 1] } });
  t.deepEqual(got, direct.probabilities.data as Float32Array);
});

test('binary_data_output returns every output as binary, in order; JSON input with binary output works', async (t) => {
  const res = await fetch(`${t0.url}/v2/models/affine/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      parameters: { binary_data_output: true },
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
      outputs: [{ name: 'y' }, { name: 'neg', parameters: { binary_data: false } }],
    }),
  });
  t.is(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const n = Number(res.headers.get('inference-header-content-length'));
  const json = JSON.parse(bytes.subarray(0, n).toString());
  t.deepEqual(json.outputs[0], { name: 'y', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } });
  t.deepEqual(json.outputs[1], { name: 'neg', datatype: 'FP32', shape: [1, 4], data: [-1, -2, -3, -4] });
  const y = new Float32Array(bytes.buffer.slice(bytes.byteOffset + n, bytes.byteOffset + n + 16));
  t.deepEqual(Array.from(y), [3, 5, 7, 9]);
});

const x4 = (over: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...over }],
});

const badRequests: [string, unknown, RegExp][] = [
  ['malformed JSON', '{"inputs": [', /malformed JSON/],
  ['not an object', '[1,2]', /must be a JSON object/],
  ['no inputs', {}, /needs an 'inputs' list/],
  ['wrong tensor name', x4({ name: 'z' }), /unknown input 'z'; the model's inputs: x/],
  ['wrong shape', x4({ shape: [1, 5], data: [1, 2, 3, 4, 5] }), /shape \[1,5\] does not match the model's \[-1,4\]/],
  ['wrong rank', x4({ shape: [4] }), /shape \[4\] does not match/],
  ['wrong datatype', x4({ datatype: 'INT32' }), /datatype INT32 does not match the model's FP32/],
  ['unknown datatype', x4({ datatype: 'FLOAT' }), /unknown datatype "FLOAT"/],
  ['wrong element count', x4({ data: [1, 2, 3] }), /3 elements for shape \[1,4\] \(needs 4\)/],
  ['non-number data', x4({ data: [1, 2, 'NaN', 4] }), /element 2 is "NaN", not a finite number/],
  ['null data', x4({ data: [1, null, 3, 4] }), /element 1 is null/],
  ['missing data', x4({ data: undefined }), /neither 'data' nor parameters.binary_data_size/],
  ['unknown output', { ...x4(), outputs: [{ name: 'nope' }] }, /unknown output 'nope'/],
  ['negative dim', x4({ shape: [-1, 4] }), /non-negative integers/],
];

for (const [what, body, message] of badRequests) {
  test(`bad request: ${what} -> 400 {"error"} and the server still serves`, async (t) => {
    const res = await postJson(`${t0.url}/v2/models/affine/infer`, body);
    t.is(res.status, 400);
    t.deepEqual(Object.keys(res.json), ['error']);
    t.regex(res.json.error, message);
    const ok = await postJson(`${t0.url}/v2/models/affine/infer`, x4());
    t.is(ok.status, 200);
  });
}

test('binary payload with NaN or Infinity is refused with 400', async (t) => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const data = new Float32Array([1, bad, 3, 4]);
    const { body, headerLength } = binaryBody(
      { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] },
      [data],
    );
    const res = await fetch(`${t0.url}/v2/models/affine/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
      body,
    });
    t.is(res.status, 400);
    t.regex(
      ((await res.json()) as any).error,
      /element 1 is (NaN|Infinity|-Infinity); NaN and Infinity are not accepted/,
    );
  }
});

test('truncated, oversized or mislabeled binary payloads are 400', async (t) => {
  const header = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] };
  const { body, headerLength } = binaryBody(header, [new Float32Array([1, 2, 3, 4])]);
  const send = (b: Buffer, h: string) =>
    fetch(`${t0.url}/v2/models/affine/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': h },
      body: b,
    });
  const truncated = await send(body.subarray(0, body.length - 3), String(headerLength));
  t.is(truncated.status, 400);
  t.regex(
    ((await truncated.json()) as any).error,
    /binary payload is truncated \(needs 16 bytes at offset 0, 13 left\)/,
  );
  const extra = await send(Buffer.concat([body, Buffer.alloc(4)]), String(headerLength));
  t.is(extra.status, 400);
  t.regex(((await extra.json()) as any).error, /4 bytes after the binary inputs/);
  const badHeader = await send(body, String(body.length + 10));
  t.is(badHeader.status, 400);
  t.regex(((await badHeader.json()) as any).error, /Inference-Header-Content-Length/);
  const wrongSize = binaryBody({ inputs: [{ ...header.inputs[0], parameters: { binary_data_size: 12 } }] }, [
    new Float32Array([1, 2, 3]),
  ]);
  const mismatch = await send(wrongSize.body, String(wrongSize.headerLength));
  t.is(mismatch.status, 400);
  t.regex(
    ((await mismatch.json()) as any).error,
    /binary_data_size 12 does not match shape \[1,4\] of FP32 \(16 bytes\)/,
  );
  t.is((await postJson(`${t0.url}/v2/models/affine/infer`, x4())).status, 200);
});

test('unknown routes are 404 {"error"}', async (t) => {
  const res = await getJson(`${t0.url}/v3/anything`);
  t.is(res.status, 404);
  t.regex(res.json.error, /no route GET \/v3\/anything/);
});
