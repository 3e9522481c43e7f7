/**
 * Graceful shutdown (issue 16, part 3) on real keep-alive connections: once close() starts, readiness is 503
 * at once while the listener stays open for the drain period; new requests get 503 with Connection: close;
 * every request already received is answered; nothing is reset; then close() resolves and the port is shut.
 */
import http from 'node:http';
import test from 'ava';
import { rawRequest, startTestServer } from './helpers.js';

const body = (i: number) =>
  JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [i, 0, 0, 0] }] });
const json = { 'content-type': 'application/json' };

async function inFlight(server: Awaited<ReturnType<typeof startTestServer>>['server']): Promise<number> {
  return (await server.metrics.inFlight.get()).values[0]?.value ?? 0;
}

test('close() with requests in flight on keep-alive connections: readiness 503 at once, 0 resets, all answered', async (t) => {
  // A long batching delay keeps the requests queued when the shutdown starts.
  const { server, url } = await startTestServer({ maxQueueDelayMs: 700, maxBatchSize: 64, drainMs: 800, eager: true });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => {
    agent.destroy();
    idleAgent.destroy();
  });
  // One keep-alive connection used once and left idle before the shutdown.
  const warm = await rawRequest(`${url}/v2/health/live`, { agent: idleAgent });
  t.is(warm.status, 200);
  const n = 16;
  const requests = Array.from({ length: n }, (_, i) =>
    rawRequest(`${url}/v2/models/affine/infer`, { method: 'POST', agent, headers: json, body: body(i) }).then(
      (r) => ({ status: r.status, connection: r.headers.connection, json: JSON.parse(r.body.toString()) }),
      (error: NodeJS.ErrnoException) => ({ status: 0, connection: undefined, json: { error: error.code } }),
    ),
  );
  while ((await inFlight(server)) < n) await new Promise((r) => setTimeout(r, 5));
  const closed = server.close();
  const startedAt = Date.now();

  // During the drain the listener is open: readiness is 503 on a new connection, liveness still 200.
  const ready = await rawRequest(`${url}/v2/health/ready`);
  t.is(ready.status, 503);
  t.deepEqual(JSON.parse(ready.body.toString()), { ready: false });
  t.is((await rawRequest(`${url}/v2/health/live`)).status, 200);
  // A new request, on a fresh connection and on the idle keep-alive one, is 503 + Connection: close, not a reset.
  for (const a of [undefined, idleAgent]) {
    const refused = await rawRequest(`${url}/v2/models/affine/infer`, {
      method: 'POST',
      headers: json,
      body: body(0),
      ...(a ? { agent: a } : {}),
    });
    t.is(refused.status, 503);
    t.is(refused.headers.connection, 'close');
    t.is(refused.headers['retry-after'], '1');
    t.regex(JSON.parse(refused.body.toString()).error, /shutting down/);
  }

  const responses = await Promise.all(requests);
  t.deepEqual(
    responses.map((r) => r.status),
    Array(n).fill(200),
    JSON.stringify(responses.filter((r) => r.status !== 200)),
  );
  responses.forEach((r, i) => t.deepEqual(r.json.outputs.find((o: any) => o.name === 'y').data, [2 * i + 1, 1, 1, 1]));
  t.true(
    responses.every((r) => r.connection === 'close'),
    'answers during the drain close their keep-alive connection',
  );
  await closed;
  t.true(Date.now() - startedAt >= 700, 'the listener stayed open for the drain period');
  t.is(await inFlight(server), 0);
  await t.throwsAsync(rawRequest(`${url}/v2/health/live`), { code: 'ECONNREFUSED' });
});

test('a second close() with drainMs 0 ends a long drain at once; requests in flight are still answered', async (t) => {
  const { server, url } = await startTestServer({
    maxQueueDelayMs: 300,
    maxBatchSize: 64,
    drainMs: 60_000,
    eager: true,
  });
  const pending = rawRequest(`${url}/v2/models/affine/infer`, { method: 'POST', headers: json, body: body(3) });
  while ((await inFlight(server)) < 1) await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  const closed = server.close();
  await new Promise((r) => setTimeout(r, 50));
  void server.close({ drainMs: 0 });
  t.is((await pending).status, 200);
  await closed;
  t.true(Date.now() - started < 10_000);
});
