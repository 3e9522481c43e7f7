/** The dynamic batcher's merge and split rules, with a run function that records what it was given. */
import test from 'ava';
import { DynamicBatcher, QueueFullError, type TensorMap } from '../src/index.js';
import type { CancelSignal } from '../src/batcher.js';
import { ClientGoneSignal } from '../src/request-context.js';

function recorder() {
  const calls: number[][] = [];
  // y = 10 * x, and each request fills its rows with its own value: a wrong split hands it another request's rows.
  const run = async (feeds: TensorMap) => {
    const x = feeds.x;
    calls.push([...x.dims]);
    const y = Float32Array.from(x.data as Float32Array, (v) => 10 * v);
    return { y: { type: 'float32', dims: [...x.dims], data: y } };
  };
  return { calls, run };
}

const req = (rows: number, width: number, value: number): TensorMap => ({
  x: { type: 'float32', dims: [rows, width], data: new Float32Array(rows * width).fill(value) },
});

test('requests queued together merge up to maxBatchSize rows and each gets exactly its own rows back', async (t) => {
  const { calls, run } = recorder();
  const batcher = new DynamicBatcher(run, { maxBatchSize: 5, maxQueueDelayMs: 0, maxQueue: 100, batchable: true });
  const outs = await Promise.all(
    [req(2, 3, 1), req(1, 3, 2), req(2, 3, 3), req(1, 3, 4)].map((f) => batcher.submit(f, ['y'])),
  );
  t.deepEqual(calls, [
    [5, 3],
    [1, 3],
  ]);
  t.deepEqual(
    outs.map((o) => o.y.dims),
    [
      [2, 3],
      [1, 3],
      [2, 3],
      [1, 3],
    ],
  );
  outs.forEach((o, i) => t.deepEqual(Array.from(o.y.data as Float32Array), Array(o.y.dims[0] * 3).fill(10 * (i + 1))));
});

test('different trailing shapes never share a run; non-batchable models run one request at a time', async (t) => {
  const a = recorder();
  const batcher = new DynamicBatcher(a.run, { maxBatchSize: 8, maxQueueDelayMs: 0, maxQueue: 100, batchable: true });
  await Promise.all([req(1, 3, 1), req(1, 4, 2), req(1, 3, 3)].map((f) => batcher.submit(f, ['y'])));
  t.deepEqual(a.calls, [
    [2, 3],
    [1, 4],
  ]);
  const b = recorder();
  const single = new DynamicBatcher(b.run, { maxBatchSize: 8, maxQueueDelayMs: 0, maxQueue: 100, batchable: false });
  await Promise.all([req(1, 3, 1), req(1, 3, 2)].map((f) => single.submit(f, ['y'])));
  t.deepEqual(b.calls, [
    [1, 3],
    [1, 3],
  ]);
});

test('requests arriving while a run is in flight form the next batch; idle() waits for all of them', async (t) => {
  const { calls, run } = recorder();
  const slow = async (feeds: TensorMap) => {
    await new Promise((r) => setTimeout(r, 30));
    return run(feeds);
  };
  const batcher = new DynamicBatcher(slow, { maxBatchSize: 8, maxQueueDelayMs: 0, maxQueue: 100, batchable: true });
  const first = batcher.submit(req(1, 2, 1), ['y']);
  await new Promise((r) => setTimeout(r, 5));
  const later = [batcher.submit(req(1, 2, 2), ['y']), batcher.submit(req(1, 2, 3), ['y'])];
  t.is(batcher.depth, 2);
  await batcher.idle();
  t.deepEqual(calls, [
    [1, 2],
    [2, 2],
  ]);
  t.deepEqual(Array.from((await later[1]).y.data as Float32Array), [30, 30]);
  await first;
});

test('a full queue rejects at once with QueueFullError', async (t) => {
  const { run } = recorder();
  const batcher = new DynamicBatcher(run, { maxBatchSize: 8, maxQueueDelayMs: 50, maxQueue: 2, batchable: true });
  const ok = [batcher.submit(req(1, 2, 1), ['y']), batcher.submit(req(1, 2, 2), ['y'])];
  await t.throwsAsync(batcher.submit(req(1, 2, 3), ['y']), {
    instanceOf: QueueFullError,
    message: /queue is full \(2 requests waiting\)/,
  });
  await Promise.all(ok);
});

/** A run that waits until released, so a test can act while a batch is queued behind it or running. */
function heldRun() {
  const started: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const run = async (feeds: TensorMap) => {
    started.push((feeds.x.data as Float32Array)[0]);
    await gate;
    return { y: feeds.x };
  };
  return { started, run, release: () => release() };
}

for (const kind of ['ClientGoneSignal', 'AbortController'] as const) {
  const make = () => {
    if (kind === 'ClientGoneSignal') {
      const signal = new ClientGoneSignal();
      return { signal, abort: (reason: unknown) => signal.abort(reason) };
    }
    const controller = new AbortController();
    return { signal: controller.signal, abort: (reason: unknown) => controller.abort(reason) };
  };

  test(`${kind}: aborting withdraws a queued request (it never runs) and answers a running one at once`, async (t) => {
    const { started, run, release } = heldRun();
    const batcher = new DynamicBatcher(run, { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueue: 10, batchable: true });
    const running = make();
    const queued = make();
    const first = batcher.submit(req(1, 2, 1), ['y'], { signal: running.signal });
    const second = batcher.submit(req(1, 2, 2), ['y'], { signal: queued.signal });
    await new Promise((resolve) => setImmediate(resolve));
    t.deepEqual(started, [1]);
    t.is(batcher.depth, 1);
    const gone = new Error('client gone');
    queued.abort(gone);
    t.is(batcher.depth, 0);
    await t.throwsAsync(second, { is: gone });
    running.abort(gone);
    await t.throwsAsync(first, { is: gone });
    release();
    await batcher.idle();
    t.deepEqual(started, [1], 'the withdrawn request never reached session.run');
  });

  test(`${kind}: an already aborted signal is refused before queueing; a settled request leaves no listener behind`, async (t) => {
    const batcher = new DynamicBatcher(async (feeds) => ({ y: feeds.x }), {
      maxBatchSize: 4,
      maxQueueDelayMs: 0,
      maxQueue: 10,
      batchable: true,
    });
    const early = make();
    const before = new Error('gone before');
    early.abort(before);
    await t.throwsAsync(batcher.submit(req(1, 2, 1), ['y'], { signal: early.signal }), { is: before });
    t.is(batcher.depth, 0);
    // The batcher's listener is gone once its request settled: nothing is left on a signal that outlives it.
    const late = make();
    const listening = new Set<() => void>();
    const spy: CancelSignal = {
      get aborted() {
        return late.signal.aborted;
      },
      get reason() {
        return late.signal.reason;
      },
      addEventListener: (type, listener, options) => {
        listening.add(listener);
        late.signal.addEventListener(type, listener, options);
      },
      removeEventListener: (type, listener) => {
        listening.delete(listener);
        late.signal.removeEventListener(type, listener);
      },
    };
    const out = await batcher.submit(req(1, 2, 3), ['y'], { signal: spy });
    t.deepEqual([...(out.y.data as Float32Array)], [3, 3]);
    t.is(listening.size, 0);
  });
}

test('ClientGoneSignal fires its listeners once, not removed ones, and never one added after it fired', (t) => {
  const signal = new ClientGoneSignal();
  const calls: string[] = [];
  const a = () => calls.push('a');
  const b = () => calls.push('b');
  signal.addEventListener('abort', a);
  signal.addEventListener('abort', b);
  signal.removeEventListener('abort', a);
  t.false(signal.aborted);
  signal.abort('why');
  signal.abort('again');
  signal.addEventListener('abort', () => calls.push('late'));
  t.deepEqual(calls, ['b']);
  t.true(signal.aborted);
  t.is(signal.reason, 'why');
});
