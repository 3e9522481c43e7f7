/**
 * No 5xx from any client input (issue 16, part 1), on a real socket: pathological JSON, duplicated outputs,
 * huge echoed values, shapes off the model's size grid, class names outside Latin-1, and fastify's own errors
 * in the {"error"} form. After every case the server still answers a normal request.
 */
import test from 'ava';
import { encodePng } from '@rwseg/core/io';
import {
  binaryBody,
  GRID_MODELS,
  postJson,
  rawRequest,
  runDirect,
  startTestServer,
  tempRepository,
  type TestServer,
} from './helpers.js';

let t0: TestServer;
test.before(async () => {
  t0 = await startTestServer();
});
test.after.always(async () => {
  await t0?.server.close({ drainMs: 0 });
});

const inferUrl = () => `${t0.url}/v2/models/affine/infer`;
const x4 = (over: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...over }],
});

async function stillServes(t: { is: (a: unknown, b: unknown, m?: string) => void }) {
  const ok = await postJson(inferUrl(), x4());
  t.is(ok.status, 200, 'the server still serves');
}

test('data nested 15,000 levels deep is a 400 at the depth limit, not a stack overflow', async (t) => {
  const deep = `{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":${'['.repeat(15_000)}1${']'.repeat(15_000)}}]}`;
  const res = await postJson(inferUrl(), deep);
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.json), ['error']);
  t.regex(res.json.error, /input 'x': 'data' is nested deeper than the 2 level\(s\) of shape \[1,4\]/);
  // Nesting like the shape is fine; one level more is not.
  t.is((await postJson(inferUrl(), x4({ data: [[1, 2, 3, 4]] }))).status, 200);
  const tooDeep = await postJson(inferUrl(), x4({ data: [[[1, 2, 3, 4]]] }));
  t.is(tooDeep.status, 400);
  t.regex(tooDeep.json.error, /nested deeper/);
  await stillServes(t);
});

test('a deeply nested shape or value is described, never serialized into the message', async (t) => {
  const deepShape = `{"inputs":[{"name":"x","shape":${'['.repeat(20_000)}${']'.repeat(20_000)},"datatype":"FP32","data":[1,2,3,4]}]}`;
  const shape = await postJson(inferUrl(), deepShape);
  t.is(shape.status, 400);
  t.regex(shape.json.error, /shape must be a list of at most 16 non-negative integers, got a list of 1/);
  const deepElement = `{"inputs":[{"name":"x","shape":[4],"datatype":"FP32","data":[1,2,3,${'['.repeat(20_000)}${']'.repeat(20_000)}]}]}`;
  const element = await postJson(`${t0.url}/v2/models/seg2d/infer`, deepElement);
  t.is(element.status, 400);
  t.true(element.json.error.length < 300);
  await stillServes(t);
});

test('more elements than the shape holds stop the reader at once (nested or flat)', async (t) => {
  const nested = await postJson(inferUrl(), x4({ data: [[1, 2, 3, 4], [5]] }));
  t.is(nested.status, 400);
  t.regex(nested.json.error, /more than 4 elements for shape \[1,4\]/);
  const flat = await postJson(inferUrl(), x4({ data: Array(100_000).fill(1) }));
  t.is(flat.status, 400);
  t.regex(flat.json.error, /more than 4 elements|100000 elements/);
  const scalar = await postJson(inferUrl(), x4({ data: 5 }));
  t.is(scalar.status, 400);
  t.regex(scalar.json.error, /'data' must be a list of 4 elements/);
});

test('the same output requested many times is a 400, not a response multiplied in size', async (t) => {
  const outputs = Array.from({ length: 2500 }, () => ({ name: 'y' }));
  const res = await postJson(inferUrl(), { ...x4(), outputs });
  t.is(res.status, 400);
  t.regex(res.json.error, /output 'y' is requested more than once/);
  const twoDistinct = await postJson(inferUrl(), { ...x4(), outputs: [{ name: 'neg' }, { name: 'y' }] });
  t.deepEqual(
    twoDistinct.json.outputs.map((o: any) => o.name),
    ['neg', 'y'],
  );
});

test('megabyte strings in names and data are clipped in the answer and in the log', async (t) => {
  const big = 'A'.repeat(2 * 1024 * 1024);
  for (const body of [
    x4({ data: [1, 2, big, 4] }),
    x4({ name: big }),
    { ...x4(), outputs: [{ name: big }] },
    x4({ datatype: big }),
  ]) {
    const res = await rawRequest(inferUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    t.is(res.status, 400);
    t.true(res.body.length < 1200, `answer of ${res.body.length} bytes`);
    t.deepEqual(Object.keys(JSON.parse(res.body.toString())), ['error']);
  }
  const huge = await rawRequest(inferUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'inference-header-content-length': big.slice(0, 8000) },
    body: '{}',
  });
  t.is(huge.status, 400);
  t.true(huge.body.length < 400);
  t.true(
    t0.logs.every((line) => line.length < 8192),
    `longest log line ${Math.max(...t0.logs.map((l) => l.length))}`,
  );
  await stillServes(t);
});

test('huge, unsafe, negative and too many dims are 4xx before any allocation; zero rows are fine', async (t) => {
  const huge = await postJson(inferUrl(), x4({ shape: [1e9, 4] }));
  t.is(huge.status, 413);
  t.regex(huge.json.error, /holds 4000000000 elements, more than the server's limit of \d+ \(--max-voxels\)/);
  for (const shape of [[2 ** 60, 4], [-1, 4], [1.5, 4], Array(10_000).fill(1), 'big']) {
    const res = await postJson(inferUrl(), x4({ shape }));
    t.is(res.status, 400, JSON.stringify(shape).slice(0, 40));
    t.regex(res.json.error, /shape must be a list of at most 16 non-negative integers/);
  }
  const zero = await postJson(inferUrl(), x4({ shape: [0, 4], data: [] }));
  t.is(zero.status, 200);
  t.deepEqual(
    zero.json.outputs.find((o: any) => o.name === 'y'),
    { name: 'y', datatype: 'FP32', shape: [0, 4], data: [] },
  );
  const binaryHuge = binaryBody(
    { inputs: [{ name: 'x', shape: [2 ** 26, 4], datatype: 'FP32', parameters: { binary_data_size: 2 ** 30 } }] },
    [],
  );
  const res = await rawRequest(inferUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(binaryHuge.headerLength),
    },
    body: binaryHuge.body,
  });
  t.is(res.status, 413);
});

test('values JSON cannot hold as numbers (1e999 is Infinity) are refused', async (t) => {
  const res = await postJson(
    inferUrl(),
    '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,1e999,3,4]}]}',
  );
  t.is(res.status, 400);
  t.regex(res.json.error, /element 1 is Infinity, not a finite number/);
});

test('a binary header length shorter than the JSON is a 400 (malformed JSON), longer than the body too', async (t) => {
  const { body, headerLength } = binaryBody(
    { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] },
    [new Float32Array([1, 2, 3, 4])],
  );
  for (const h of [headerLength - 5, body.length + 1, -3]) {
    const res = await rawRequest(inferUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(h) },
      body,
    });
    t.is(res.status, 400, String(h));
    t.regex(JSON.parse(res.body.toString()).error, /malformed JSON|Inference-Header-Content-Length/);
  }
});

test('a spatial size off the model size grid is a 400 naming the valid sizes; on the grid it equals onnxruntime', async (t) => {
  const grid = await startTestServer({ models: GRID_MODELS });
  const noGrid = tempRepository([{ root: GRID_MODELS, from: 'pool2d', name: 'pool2d', metadata: { sizeGrid: null } }]);
  const unknownGrid = await startTestServer({ models: noGrid.dir });
  try {
    const image = (h: number, w: number) => ({
      inputs: [
        { name: 'image', shape: [1, h, w, 1], datatype: 'FP32', data: Array.from({ length: h * w }, (_, i) => i % 7) },
      ],
    });
    const off = await postJson(`${grid.url}/v2/models/pool2d/infer`, image(5, 6));
    t.is(off.status, 400);
    t.regex(
      off.json.error,
      /spatial size \[5,6\], off the model's size grid \(each spatial side a multiple of \[2,2\]\): axis 1 is 5: use 4 or 6/,
    );
    t.is(grid.server.store.get('pool2d').runs, 0, 'refused before onnxruntime ran');
    const on = await postJson(`${grid.url}/v2/models/pool2d/infer`, image(4, 6));
    t.is(on.status, 200);
    const direct = await runDirect(
      'pool2d',
      { image: { data: Float32Array.from(image(4, 6).inputs[0].data), dims: [1, 4, 6, 1] } },
      '1',
      GRID_MODELS,
    );
    t.deepEqual(Float32Array.from(on.json.outputs[0].data), direct.out.data as Float32Array);
    // Without a grid in rwseg.json, onnxruntime's failure on the shape is still the client's 400, not a 500.
    const failed = await postJson(`${unknownGrid.url}/v2/models/pool2d/infer`, image(5, 6));
    t.is(failed.status, 400);
    t.regex(failed.json.error, /model 'pool2d\/1' cannot run on input 'image' \[1,5,6,1\] \(onnxruntime: /);
    t.is((await postJson(`${unknownGrid.url}/v2/models/pool2d/infer`, image(4, 4))).status, 200);
  } finally {
    await grid.server.close({ drainMs: 0 });
    await unknownGrid.server.close({ drainMs: 0 });
    noGrid.remove();
  }
});

test('class names outside Latin-1 reach the client intact through X-Rwseg-Classes', async (t) => {
  const classes = ['фон', 'опухоль', '腫瘍 😀 "quoted"\n'];
  const repo = tempRepository([
    { from: 'seg2d', name: 'seg2d', metadata: { classes: classes.map((name, index) => ({ index, name })) } },
  ]);
  const served = await startTestServer({ models: repo.dir });
  try {
    const png = encodePng({ data: new Uint8Array(16).map((_, i) => i * 16), shape: [4, 4], spacing: [1, 1] }, 'in.png');
    const res = await fetch(`${served.url}/v2/models/seg2d/segment`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    t.is(res.status, 200);
    const header = res.headers.get('x-rwseg-classes')!;
    t.regex(header, /^[\x20-\x7e]+$/, 'the header value is plain ASCII');
    t.deepEqual(JSON.parse(header), classes);
  } finally {
    await served.server.close({ drainMs: 0 });
    repo.remove();
  }
});

test('fastify\'s own errors are {"error"} bodies: 404, 405, 413, 414, bad URL encoding', async (t) => {
  const cases: [string, string, number, RegExp][] = [
    ['GET', '/nothing/here', 404, /no route GET \/nothing\/here/],
    ['DELETE', '/v2/models/affine', 405, /method DELETE is not allowed on \/v2\/models\/affine; use GET, HEAD/],
    ['GET', '/v2/models/affine/infer', 405, /use POST/],
    ['POST', '/v2/health/live', 405, /use GET, HEAD/],
    ['GET', `/v2/models/${'m'.repeat(1500)}`, 414, /path segment is longer than 1024 characters/],
    ['GET', '/v2/models/%E0%A4%A', 400, /URL is not valid/],
    ['GET', `/v2/models/${'m'.repeat(1000)}`, 404, /unknown model 'm{80}\.\.\. \(1000 characters\)'/],
    ['GET', `/v2/models/affine?${'q'.repeat(12_000)}`, 200, /./],
  ];
  for (const [method, path, status, message] of cases) {
    const res = await rawRequest(`${t0.url}${path}`, { method });
    t.is(res.status, status, `${method} ${path.slice(0, 40)}`);
    if (status === 200) continue;
    const json = JSON.parse(res.body.toString());
    t.deepEqual(Object.keys(json), ['error']);
    t.regex(json.error, message);
    t.true(res.body.length < 600);
    if (status === 405) t.regex(String(res.headers.allow), /^[A-Z, ]+$/);
  }
  // A 12 KB query string is clipped in the request log too.
  t.true(
    t0.logs.every((line) => line.length < 4096),
    `longest log line ${Math.max(...t0.logs.map((l) => l.length))}`,
  );
  await stillServes(t);
});
