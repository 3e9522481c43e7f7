/** Production behavior: batching, queue limits, body limits, timeouts, auth, metrics, provider fallback. */
import test from 'ava';
import { getJson, postJson, runDirect, seededFloats, startTestServer } from './helpers.js';

const affine = (values: number[]) => ({
  inputs: [{ name: 'x', shape: [values.length / 4, 4], datatype: 'FP32', data: values }],
});

test('concurrent requests are merged into one session.run and each gets its own rows back', async (t) => {
  const { server, url } = await startTestServer({ maxBatchSize: 8, maxQueueDelayMs: 50 });
  try {
    const version = server.store.get('seg2d');
    await version.load();
    const inputs = Array.from({ length: 6 }, (_, i) => seededFloats(3 * 2, 100 + i));
    const responses = await Promise.all(
      inputs.map((data, i) =>
        postJson(`${url}/v2/models/seg2d/infer`, {
          id: String(i),
          inputs: [{ name: 'image', shape: [1, 3, 2, 1], datatype: 'FP32', data: Array.from(data) }],
        }),
      ),
    );
    t.true(version.runs < 6, `expected merged runs, got ${version.runs} runs for 6 requests`);
    for (const [i, res] of responses.entries()) {
      t.is(res.status, 200);
      t.is(res.json.id, String(i));
      t.deepEqual(res.json.outputs[0].shape, [1, 3, 2, 3]);
      const direct = await runDirect('seg2d', { image: { data: inputs[i], dims: [1, 3, 2, 1] } });
      t.deepEqual(Float32Array.from(res.json.outputs[0].data), direct.probabilities.data as Float32Array);
    }
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const merged = /rwseg_inference_batch_requests_bucket\{le="1",model="seg2d"\} (\d+)/.exec(metrics);
    const count = /rwseg_inference_batch_requests_count\{model="seg2d"\} (\d+)/.exec(metrics);
    t.truthy(merged && count);
    t.is(Number(count![1]), version.runs);
    t.true(Number(merged![1]) < Number(count![1]), 'at least one run held more than one request');
  } finally {
    await server.close();
  }
});

test('requests with different non-batch shapes are not merged, and still answer correctly', async (t) => {
  const { server, url } = await startTestServer({ maxBatchSize: 8, maxQueueDelayMs: 30 });
  try {
    const a = seededFloats(4, 1);
    const b = seededFloats(6, 2);
    const [ra, rb] = await Promise.all([
      postJson(`${url}/v2/models/seg2d/infer`, {
        inputs: [{ name: 'image', shape: [1, 2, 2, 1], datatype: 'FP32', data: Array.from(a) }],
      }),
      postJson(`${url}/v2/models/seg2d/infer`, {
        inputs: [{ name: 'image', shape: [1, 3, 2, 1], datatype: 'FP32', data: Array.from(b) }],
      }),
    ]);
    t.is(server.store.get('seg2d').runs, 2);
    t.deepEqual(
      Float32Array.from(ra.json.outputs[0].data),
      (await runDirect('seg2d', { image: { data: a, dims: [1, 2, 2, 1] } })).probabilities.data as Float32Array,
    );
    t.deepEqual(
      Float32Array.from(rb.json.outputs[0].data),
      (await runDirect('seg2d', { image: { data: b, dims: [1, 3, 2, 1] } })).probabilities.data as Float32Array,
    );
  } finally {
    await server.close();
  }
});

test('a full queue answers 503 with Retry-After, and the server serves again once it drains', async (t) => {
  const { server, url } = await startTestServer({ maxQueue: 2, maxQueueDelayMs: 1500, maxBatchSize: 64 });
  try {
    await server.store.get('affine').load();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]))),
    );
    const statuses = responses.map((r) => r.status).sort();
    t.deepEqual(statuses, [200, 200, 503, 503, 503]);
    const refused = responses.find((r) => r.status === 503)!;
    t.is(refused.headers.get('retry-after'), '1');
    t.regex(refused.json.error, /queue is full/);
    const after = await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]));
    t.is(after.status, 200);
  } finally {
    await server.close();
  }
});

test('a body over the limit is 413 with {"error"}, and the server still serves', async (t) => {
  const { server, url } = await startTestServer({ bodyLimit: 1024 });
  try {
    const big = affine(Array.from({ length: 1200 }, () => 1));
    const res = await postJson(`${url}/v2/models/affine/infer`, big);
    t.is(res.status, 413);
    t.regex(res.json.error, /larger than the 1024-byte limit/);
    t.is((await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]))).status, 200);
  } finally {
    await server.close();
  }
});

test('a request still queued at its deadline is answered 503, not left hanging', async (t) => {
  const { server, url } = await startTestServer({ requestTimeoutMs: 100, maxQueueDelayMs: 5000, maxBatchSize: 64 });
  try {
    await server.store.get('affine').load();
    const started = Date.now();
    const res = await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]));
    t.is(res.status, 503);
    t.regex(res.json.error, /100 ms deadline \(--timeout-ms\) passed before its inference started/);
    t.is(res.headers.get('retry-after'), '1');
    t.true(Date.now() - started < 4000, 'answered at the deadline, long before the batch would have run');
  } finally {
    await server.close();
  }
});

test('bearer auth: missing or wrong token 401, right token 200, probes stay open, tokens never logged', async (t) => {
  const token = 's3cret-token-value';
  const { server, url, logs } = await startTestServer({ tokens: [token, 'second-token'], logLevel: 'debug' });
  try {
    const missing = await getJson(`${url}/v2/models/affine`);
    t.is(missing.status, 401);
    t.regex(missing.json.error, /missing bearer token/);
    t.is(missing.headers.get('www-authenticate'), 'Bearer realm="rwseg"');
    for (const header of [`Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, 'Bearer ', token, `Basic ${token}`]) {
      const wrong = await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]), { authorization: header });
      t.is(wrong.status, 401, header);
      t.regex(wrong.json.error, /bearer token/);
    }
    t.is((await getJson(`${url}/metrics`.replace('/metrics', '/v2'))).status, 401);
    t.is((await fetch(`${url}/metrics`)).status, 401);
    const ok = await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]), {
      authorization: `Bearer ${token}`,
    });
    t.is(ok.status, 200);
    t.is((await getJson(`${url}/v2/models/affine`, { authorization: 'bearer second-token' })).status, 200);
    t.is((await getJson(`${url}/v2/health/live`)).status, 200);
    t.is((await getJson(`${url}/v2/health/ready`)).status, 200);
    t.true(logs.length > 5);
    t.false(logs.some((line) => line.includes(token) || line.includes('second-token')));
  } finally {
    await server.close();
  }
});

test('/metrics exposes request counts by route and status, latency histograms and queue depth', async (t) => {
  const { server, url } = await startTestServer();
  try {
    await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]));
    await postJson(`${url}/v2/models/affine/infer`, '{oops');
    await getJson(`${url}/v2/models/missing`);
    const res = await fetch(`${url}/metrics`);
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    t.regex(text, /rwseg_http_requests_total\{route="\/v2\/models\/:name\/infer",method="POST",status="200"\} 1/);
    t.regex(text, /rwseg_http_requests_total\{route="\/v2\/models\/:name\/infer",method="POST",status="400"\} 1/);
    t.regex(text, /rwseg_http_requests_total\{route="\/v2\/models\/:name",method="GET",status="404"\} 1/);
    t.regex(text, /rwseg_http_request_duration_seconds_count\{route="\/v2\/models\/:name\/infer",method="POST"\} 2/);
    t.regex(text, /rwseg_inference_batch_rows_count\{model="affine"\} 1/);
    t.regex(text, /rwseg_inference_queue_depth\{model="affine"\} 0/);
  } finally {
    await server.close();
  }
});

test('provider fallback: cuda is unavailable here, so cpu is chosen and the reason logged', async (t) => {
  const { server, url, logs } = await startTestServer({ providers: ['cuda', 'cpu'], eager: true });
  try {
    const meta = await getJson(`${url}/v2/models/seg2d`);
    t.is(meta.json.rwseg.provider, 'cpu');
    t.is(meta.json.rwseg.failedProviders[0].provider, 'cuda');
    t.regex(meta.json.rwseg.failedProviders[0].error, /\S/);
    const warning = logs
      .map((l) => JSON.parse(l))
      .find((l) => l.provider === 'cuda' && l.level === 40 && l.model === 'seg2d/1');
    t.truthy(warning);
    t.regex(warning.msg, /execution provider 'cuda' unavailable for seg2d\/1, trying the next one/);
    t.truthy(logs.map((l) => JSON.parse(l)).find((l) => l.provider === 'cpu' && /loaded seg2d\/1 on cpu/.test(l.msg)));
  } finally {
    await server.close();
  }
});

test('strictProvider: a provider that fails is an error (eager: at start; lazy: 503 on the model)', async (t) => {
  const error = await t.throwsAsync(startTestServer({ providers: ['cuda', 'cpu'], strictProvider: true, eager: true }));
  t.regex(error!.message, /execution provider 'cuda' failed and --strict-provider is set/);
  const { server, url } = await startTestServer({ providers: ['cuda', 'cpu'], strictProvider: true });
  try {
    const res = await postJson(`${url}/v2/models/affine/infer`, affine([1, 2, 3, 4]));
    t.is(res.status, 503);
    t.regex(res.json.error, /strict-provider/);
    const ready = await getJson(`${url}/v2/models/affine/ready`);
    t.is(ready.status, 400);
    t.like(ready.json, { name: 'affine', ready: false });
    t.regex(ready.json.reason, /--strict-provider is set/, 'a model that is not ready says why');
    t.is((await getJson(`${url}/v2/health/ready`)).status, 400);
    t.is((await getJson(`${url}/v2/health/live`)).status, 200);
  } finally {
    await server.close();
  }
});

test('a missing model repository is a clear error naming the folder', async (t) => {
  const error = await t.throwsAsync(startTestServer({ models: '/nonexistent/repo' }));
  t.regex(error!.message, /model repository '\/nonexistent\/repo' is not a folder/);
});
