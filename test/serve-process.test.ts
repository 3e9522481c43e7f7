/** The real `rwseg serve` process: start-up report, SIGTERM with requests in flight, start-up errors. */
import test from 'ava';
import { spawnServe } from '@rwseg/test-helpers/serve';

test('SIGTERM with 62 requests in flight on keep-alive connections: 0 resets, every one answered, exit 0', async (t) => {
  // A long batching delay keeps the requests queued when the signal arrives.
  const serve = await spawnServe([
    '--provider',
    'cpu',
    '--max-queue-delay-ms',
    '600',
    '--max-batch-size',
    '64',
    '--eager',
    '--drain-ms',
    '300',
  ]);
  t.teardown(() => serve.child.kill('SIGKILL'));
  t.regex(serve.stdout(), /affine\/2: ready on cpu/);
  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
  const n = 62;
  // fetch keeps its connections alive, so these are requests on open keep-alive connections.
  const requests = Array.from({ length: n }, (_, i) =>
    fetch(`${serve.url}/v2/models/affine/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body.replace('[1,2,3,4]', `[${i},0,0,0]`),
    }).then(
      async (r) => ({ status: r.status, json: (await r.json()) as any }),
      (error: Error & { cause?: { code?: string } }) => ({
        status: 0,
        json: { error: error.cause?.code ?? error.message },
      }),
    ),
  );
  // Signal only once the server has received all of them (its log says so), so each is truly in flight.
  const received = () =>
    (serve.stderr().match(/"url":"\/v2\/models\/affine\/infer"[^\n]*"msg":"incoming request"/g) ?? []).length;
  while (received() < n) await new Promise((r) => setTimeout(r, 10));
  serve.child.kill('SIGTERM');
  const responses = await Promise.all(requests);
  t.deepEqual(
    responses.filter((r) => r.status !== 200),
    [],
    'no request reset or refused',
  );
  responses.forEach((r, i) => t.deepEqual(r.json.outputs.find((o: any) => o.name === 'y').data, [2 * i + 1, 1, 1, 1]));
  t.is(await serve.exit, 0);
  t.regex(serve.stdout(), /SIGTERM: draining for 300 ms, then finishing in-flight requests\nstopped/);
  await t.throwsAsync(fetch(`${serve.url}/v2/health/live`));
});

test('auth from RWSEG_TOKEN; the start-up report says auth is on and never prints the token', async (t) => {
  const serve = await spawnServe(['--provider', 'cpu', '--drain-ms', '0'], { RWSEG_TOKEN: 'tok-from-env' });
  try {
    t.regex(serve.stdout(), /\(auth on\)/);
    t.is((await fetch(`${serve.url}/v2`)).status, 401);
    t.is((await fetch(`${serve.url}/v2`, { headers: { authorization: 'Bearer tok-from-env' } })).status, 200);
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exit;
  }
  t.false(serve.stdout().includes('tok-from-env') || serve.stderr().includes('tok-from-env'));
});

test('start-up errors exit non-zero with the reason: strict provider, bad provider list, missing token file, bad CORS origin', async (t) => {
  const strict = await t.throwsAsync(spawnServe(['--provider', 'cuda,cpu', '--strict-provider', '--eager']));
  t.is((strict as any).code, 2);
  t.regex((strict as any).stderr, /execution provider 'cuda' failed and --strict-provider is set/);
  const badList = await t.throwsAsync(spawnServe(['--provider', 'cpu,,cuda']));
  t.regex((badList as any).stderr, /invalid --provider list 'cpu,,cuda'/);
  const noFile = await t.throwsAsync(spawnServe(['--token-file', '/nonexistent/tokens']));
  t.regex((noFile as any).stderr, /cannot read token file '\/nonexistent\/tokens': ENOENT/);
  const badCors = await t.throwsAsync(spawnServe(['--cors-origin', 'viewer.example.org']));
  t.is((badCors as any).code, 2);
  t.regex((badCors as any).stderr, /invalid --cors-origin 'viewer.example.org': give '\*' or origins/);
});
