/**
 * Protocol details (issue 16, part 5) on a real socket: the model-name rule is the same on disk and on the
 * route, infer takes only JSON or the binary extension's octet-stream, and CORS is off unless origins are given.
 */
import test from 'ava';
import { rawRequest, startTestServer, tempRepository } from './helpers.js';

const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });

test('model names up to 200 characters are served on the route as on disk; longer ones are a 404 {"error"}', async (t) => {
  const long = 'm'.repeat(150);
  const longest = 'n'.repeat(200);
  const repo = tempRepository([
    { from: 'affine', name: long },
    { from: 'affine', name: longest },
  ]);
  const s = await startTestServer({ models: repo.dir });
  try {
    for (const name of [long, longest]) {
      const meta = await rawRequest(`${s.url}/v2/models/${name}`);
      t.is(meta.status, 200, `${name.length} characters`);
      t.is(JSON.parse(meta.body.toString()).name, name);
      const infer = await rawRequest(`${s.url}/v2/models/${name}/versions/1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      t.is(infer.status, 200);
    }
    const tooLong = await rawRequest(`${s.url}/v2/models/${'n'.repeat(201)}`);
    t.is(tooLong.status, 404);
    t.regex(JSON.parse(tooLong.body.toString()).error, /unknown model 'n{80}\.\.\. \(201 characters\)'/);
  } finally {
    await s.server.close({ drainMs: 0 });
    repo.remove();
  }
});

test('infer takes application/json, application/octet-stream or no Content-Type (415 {"error"} otherwise)', async (t) => {
  const s = await startTestServer();
  try {
    const send = (headers: Record<string, string>) =>
      rawRequest(`${s.url}/v2/models/affine/infer`, { method: 'POST', headers, body });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await send({ 'content-type': type });
      t.is(res.status, 415, type);
      t.regex(
        JSON.parse(res.body.toString()).error,
        /is not accepted on infer: send application\/json, or application\/octet-stream/,
      );
    }
    // No Content-Type at all is taken, as Triton takes it: tritonclient's HTTP client sends none.
    t.is((await send({})).status, 200);
    const empty = await send({ 'content-type': '' });
    t.is(empty.status, 415);
    t.is((await send({ 'content-type': 'application/json; charset=utf-8' })).status, 200);
    t.is((await send({ 'content-type': 'Application/JSON' })).status, 200);
    t.is(
      (
        await send({
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(body.length),
        })
      ).status,
      200,
    );
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});

test('CORS is off by default: no Access-Control headers, and a preflight is 405', async (t) => {
  const s = await startTestServer();
  try {
    const res = await rawRequest(`${s.url}/v2/models/affine`, { headers: { origin: 'https://evil.example' } });
    t.is(res.status, 200);
    t.is(res.headers['access-control-allow-origin'], undefined);
    const preflight = await rawRequest(`${s.url}/v2/models/affine/infer`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    t.is(preflight.status, 405);
    t.is(preflight.headers['access-control-allow-origin'], undefined);
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});

test('with corsOrigins, allowed origins get preflights (no token needed) and readable answers; others get nothing', async (t) => {
  const origin = 'https://viewer.example.org';
  const s = await startTestServer({ corsOrigins: [origin], tokens: ['tok'] });
  try {
    const preflight = await rawRequest(`${s.url}/v2/models/affine/infer`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    t.is(preflight.status, 204);
    t.is(preflight.headers['access-control-allow-origin'], origin);
    t.regex(
      String(preflight.headers['access-control-allow-headers']),
      /authorization, content-type, inference-header-content-length/,
    );
    t.regex(String(preflight.headers['access-control-allow-methods']), /POST/);
    const res = await rawRequest(`${s.url}/v2/models/affine/infer`, {
      method: 'POST',
      headers: { origin, authorization: 'Bearer tok', 'content-type': 'application/json' },
      body,
    });
    t.is(res.status, 200);
    t.is(res.headers['access-control-allow-origin'], origin);
    t.regex(String(res.headers['access-control-expose-headers']), /inference-header-content-length/);
    const other = await rawRequest(`${s.url}/v2/models/affine/infer`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    t.is(other.headers['access-control-allow-origin'], undefined);
    // A preflight for a path no route has is still a 404.
    t.is((await rawRequest(`${s.url}/nope`, { method: 'OPTIONS', headers: { origin } })).status, 404);
  } finally {
    await s.server.close({ drainMs: 0 });
  }
});
