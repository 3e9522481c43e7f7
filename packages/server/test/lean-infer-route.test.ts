/**
 * The lean infer route (infer-route.ts), which node's 'request' listener runs ahead of fastify for plain infer
 * URLs, answers every request exactly as fastify's infer route does. A percent-encoded model name
 * ('/v2/models/%61ffine/infer' is 'affine') is not plain, so it goes through fastify: each request below is sent
 * both ways on a real socket and the answers (status, body, the headers that carry meaning) must be the same.
 * The route's own accounting (metrics, request log, drain) is checked through the plain URL.
 */
import http from 'node:http';
import test from 'ava';
import { matchInferPath } from '../src/infer-route.js';
import {
  binaryBody,
  metricValue,
  rawRequest,
  runDirect,
  seededFloats,
  startTestServer,
  type RawResponse,
} from './helpers.js';

const LEAN = '/v2/models/affine/infer';
const VIA_FASTIFY = '/v2/models/%61ffine/infer';
const affine = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
const json = { 'content-type': 'application/json' };
const MEANINGFUL_HEADERS = [
  'content-type',
  'content-length',
  'inference-header-content-length',
  'www-authenticate',
  'retry-after',
  'connection',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'vary',
];

function sameAnswer(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, a: RawResponse, b: RawResponse) {
  const pick = (r: RawResponse) => ({
    status: r.status,
    body: r.body.toString('latin1'),
    headers: Object.fromEntries(MEANINGFUL_HEADERS.map((h) => [h, r.headers[h]])),
  });
  t.deepEqual(pick(a), pick(b));
}

test('plain infer URLs are the lean route; encoded, trailing-slash and other paths are left to fastify', (t) => {
  t.deepEqual(matchInferPath('/v2/models/affine/infer'), {
    route: '/v2/models/:name/infer',
    name: 'affine',
    version: undefined,
  });
  t.deepEqual(matchInferPath('/v2/models/a.b-c_d/versions/2/infer?x=1'), {
    route: '/v2/models/:name/versions/:version/infer',
    name: 'a.b-c_d',
    version: '2',
  });
  for (const url of [
    '/v2/models/%61ffine/infer',
    '/v2/models/affine/infer/',
    '/v2/models/.hidden/infer',
    '/v2/models//infer',
    '/v2/models/affine/versions//infer',
    '/v2/models/affine/ready',
    `/v2/models/${'n'.repeat(1025)}/infer`,
    '/v2/models/affine/inferx',
  ])
    t.is(matchInferPath(url), undefined, url);
});

test('the lean route and fastify answer alike: success (JSON and binary), 400, 404, 413, 415, 401', async (t) => {
  const s = await startTestServer({ tokens: ['tok'], bodyLimit: 4096 });
  const auth = { authorization: 'Bearer tok' };
  const image = seededFloats(4, 2);
  const binary = binaryBody(
    {
      inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: image.byteLength } }],
      parameters: { binary_data_output: true },
    },
    [image],
  );
  const cases: [string, http.RequestOptions & { body?: Buffer | string }][] = [
    ['JSON', { method: 'POST', headers: { ...json, ...auth }, body: JSON.stringify({ id: 'q', ...affine }) }],
    [
      'binary',
      {
        method: 'POST',
        headers: {
          ...auth,
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(binary.headerLength),
        },
        body: binary.body,
      },
    ],
    ['malformed JSON', { method: 'POST', headers: { ...json, ...auth }, body: '{"inputs": [' }],
    ['empty body', { method: 'POST', headers: { ...json, ...auth }, body: '' }],
    ['wrong shape', { method: 'POST', headers: { ...json, ...auth }, body: JSON.stringify({ inputs: [] }) }],
    ['too large', { method: 'POST', headers: { ...json, ...auth }, body: 'x'.repeat(5000) }],
    ['text/plain', { method: 'POST', headers: { 'content-type': 'text/plain', ...auth }, body: '{}' }],
    ['no token', { method: 'POST', headers: json, body: JSON.stringify(affine) }],
    ['bad token', { method: 'POST', headers: { ...json, authorization: 'Bearer nope' }, body: JSON.stringify(affine) }],
  ];
  try {
    for (const [label, options] of cases) {
      const lean = await rawRequest(`${s.url}${LEAN}`, options);
      const viaFastify = await rawRequest(`${s.url}${VIA_FASTIFY}`, options);
      t.log(label, lean.status);
      sameAnswer(t, lean, viaFastify);
    }
    // And the answers are right, not just alike: the JSON answer parses to what JSON.stringify writes for
    // onnxruntime's own outputs (every number the same float32).
    const ok = await rawRequest(`${s.url}${LEAN}`, cases[0][1]);
    const direct = await runDirect('affine', { x: { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 4] } }, '2');
    const expected = {
      model_name: 'affine',
      model_version: '2',
      id: 'q',
      outputs: ['y', 'neg'].map((name) => ({
        name,
        datatype: 'FP32',
        shape: [1, 4],
        data: Array.from(direct[name].data as Float32Array),
      })),
    };
    const asFloat32 = (answer: typeof expected) => ({
      ...answer,
      outputs: answer.outputs.map((o) => ({ ...o, data: o.data.map((v) => Math.fround(v)) })),
    });
    t.deepEqual(asFloat32(JSON.parse(ok.body.toString())), asFloat32(JSON.parse(JSON.stringify(expected))));
    t.is((await rawRequest(`${s.url}${LEAN}`, cases[5][1])).status, 413);
    const denied = await rawRequest(`${s.url}${LEAN}`, cases[7][1]);
    t.is(denied.status, 401);
    t.is(denied.headers['www-authenticate'], 'Bearer realm="rwseg"');
    // An unknown model through each path.
    const unknown = (path: string) => rawRequest(`${s.url}${path}`, cases[0][1]);
    sameAnswer(t, await unknown('/v2/models/nothere/infer'), await unknown('/v2/models/%6Eothere/infer'));
    t.is((await unknown('/v2/models/nothere/infer')).status, 404);
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});

test('through the lean route: CORS headers, metrics per route and status, the request log, in-flight at 0', async (t) => {
  const origin = 'https://viewer.example.org';
  const s = await startTestServer({ corsOrigins: [origin], logLevel: 'info', tokens: ['secret-token'] });
  try {
    const send = (path: string, token: string) =>
      rawRequest(`${s.url}${path}`, {
        method: 'POST',
        headers: { ...json, origin, authorization: `Bearer ${token}` },
        body: JSON.stringify(affine),
      });
    const ok = await send(LEAN, 'secret-token');
    t.is(ok.status, 200);
    t.is(ok.headers['access-control-allow-origin'], origin);
    t.is((await send('/v2/models/affine/versions/2/infer', 'secret-token')).status, 200);
    t.is((await send(LEAN, 'wrong')).status, 401);
    const scrape = await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer secret-token' } });
    const text = await scrape.text();
    const count = (route: string, status: string) =>
      metricValue(text, `rwseg_http_requests_total{route="${route}",method="POST",status="${status}"}`);
    t.is(count('/v2/models/:name/infer', '200'), 1);
    t.is(count('/v2/models/:name/versions/:version/infer', '200'), 1);
    t.is(count('/v2/models/:name/infer', '401'), 1);
    t.is(
      metricValue(text, 'rwseg_http_request_duration_seconds_count{route="/v2/models/:name/infer",method="POST"}'),
      2,
    );
    t.is((await s.server.metrics.inFlight.get()).values[0].value, 0);
    // fastify's request log lines, with one request id sequence and no token anywhere.
    const lines = s.logs.map((l) => JSON.parse(l) as Record<string, any>);
    const incoming = lines.filter((l) => l.msg === 'incoming request' && l.req?.url === LEAN);
    t.is(incoming.length, 2);
    const completed = lines.filter((l) => l.msg === 'request completed' && incoming.some((i) => i.reqId === l.reqId));
    t.deepEqual(completed.map((l) => l.res.statusCode).sort(), [200, 401]);
    t.is(
      new Set(lines.filter((l) => l.reqId).map((l) => `${l.reqId} ${l.msg}`)).size,
      lines.filter((l) => l.reqId).length,
    );
    t.false(s.logs.some((l) => l.includes('secret-token')));
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});

test('while draining, the lean route answers 503 + Retry-After + Connection: close, as fastify does', async (t) => {
  const s = await startTestServer();
  try {
    const closing = s.server.close({ drainMs: 400 });
    await new Promise((r) => setTimeout(r, 50));
    const options = { method: 'POST', headers: json, body: JSON.stringify(affine), agent: false } as const;
    const lean = await rawRequest(`${s.url}${LEAN}`, options);
    const viaFastify = await rawRequest(`${s.url}${VIA_FASTIFY}`, options);
    t.is(lean.status, 503);
    t.is(lean.headers['retry-after'], '1');
    t.is(lean.headers.connection, 'close');
    sameAnswer(t, lean, viaFastify);
    await closing;
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});
