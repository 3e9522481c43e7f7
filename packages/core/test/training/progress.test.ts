import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildUNet, createProgressWriter, diceOnlyMetrics, train, useBackend } from '../../src/index.js';
import type { TrainingEvent } from '../../src/index.js';
import { diskSource, diskValidationCases, testLoss, TINY_UNET } from '../helpers/toy-training.js';

/** A log file's view of the writer: everything written, no terminal. */
function logStream() {
  const chunks: string[] = [];
  const raw = () => chunks.join('');
  const lines = () => raw().split('\n').filter(Boolean);
  return { stream: { write: (s: string) => chunks.push(s), isTTY: false }, lines, raw };
}

const ITERATION_LINE = new RegExp(
  String.raw`^epoch (\d+)/(\d+) iteration (\d+)/(\d+) loss (\d+\.\d{4}) \(epoch mean (\d+\.\d{4})\) ` +
    String.raw`([\d.]+) it/s ETA epoch (\S+) run (\S+)$`,
);
const VALIDATION_LINE = /^epoch (\d+)\/(\d+) validation case (\d+)\/(\d+) \((\S+)\) ([\d.]+) cases\/s ETA (\S+)$/;
const EPOCH_LINE = /^epoch (\d+)\/(\d+) loss (\d+\.\d{4}) lr \S+ ([\d.]+) it\/s( val Dice .*)? ETA (\S+)$/;

test('off a terminal, a plain line comes every interval with iteration, loss, it/s and ETA, and one per epoch', (t) => {
  let clock = 0;
  const log = logStream();
  const write = createProgressWriter(log.stream, 'hippo', { intervalSeconds: 10, now: () => clock });
  write({ type: 'start', startEpoch: 0, epochs: 2, iterationsPerEpoch: 10 });
  // 4 s per iteration: lines are due after iterations 3 (12 s), 6 (24 s) and 9 (36 s); iteration 10 ends the epoch.
  for (let i = 0; i < 10; i++) {
    clock += 4000;
    write({ type: 'iteration', epoch: 1, iteration: i, loss: 1 - i * 0.05, seconds: clock / 1000 });
  }
  write({ type: 'epoch', entry: { epoch: 1, loss: 0.775, lr: 0.01, gradNorm: 1, seconds: 40 } });
  const lines = log.lines();
  t.is(log.raw().includes('\r'), false, 'no carriage returns in a log');
  t.is(lines[0], 'hippo training epochs 1..2, 10 iterations per epoch, progress every 10s');
  const iterations = lines.slice(1, -1).map((l) => ITERATION_LINE.exec(l.replace(/^hippo /, '')));
  t.deepEqual(
    iterations.map((m) => Number(m![3])),
    [3, 6, 9],
  );
  const third = iterations[2]!;
  // Iteration 9: loss 1 - 8 * 0.05; the epoch mean of 1, 0.95, ..., 0.6; 9 its in 36 s.
  t.is(Number(third[5]), 0.6);
  t.is(Number(third[6]), 0.8);
  t.is(Number(third[7]), 0.25);
  // 1 iteration left in the epoch at 4 s; 11 left in the run at 4 s each.
  t.is(third[8], '4s');
  t.is(third[9], '44s');
  const epoch = EPOCH_LINE.exec(lines.at(-1)!.replace(/^hippo /, ''));
  t.truthy(epoch, lines.at(-1));
  t.is(epoch![6], '40s');

  // Validation: 5 cases at 3 s each; the first line is due 10 s after the epoch line.
  for (let c = 0; c < 5; c++) {
    clock += 3000;
    write({ type: 'validation', epoch: 1, case: c, cases: 5, id: `case-${c}` });
  }
  const validation = log
    .lines()
    .slice(lines.length)
    .map((l) => VALIDATION_LINE.exec(l.replace(/^hippo /, '')));
  t.deepEqual(
    validation.map((m) => m![5]),
    ['case-3'],
  );
  t.is(validation[0]![7], '3s');
});

test('on a terminal the bar is redrawn in place at every iteration and cleared for the epoch line', (t) => {
  const chunks: string[] = [];
  let clock = 0;
  const write = createProgressWriter({ write: (s: string) => chunks.push(s), isTTY: true }, '', { now: () => clock });
  write({ type: 'start', startEpoch: 0, epochs: 1, iterationsPerEpoch: 2 });
  for (let i = 0; i < 2; i++) {
    clock += 1000;
    write({ type: 'iteration', epoch: 1, iteration: i, loss: 0.5, seconds: clock / 1000 });
  }
  write({ type: 'epoch', entry: { epoch: 1, loss: 0.5, lr: 0.01, gradNorm: 1, seconds: 2 } });
  t.is(chunks.length, 4);
  // eslint-disable-next-line no-control-regex -- strips the ANSI escapes of progress output
  t.regex(chunks[1]!, /^\repoch 1\/1 \[#{20}\] 2\/2 loss 0\.5000 1\.00 it\/s ETA 0s\u001b\[K$/);
  t.is(chunks[2], '\r\u001b[K');
  t.regex(chunks[3]!, /^epoch 1\/1 loss 0\.5000 .*\n$/);
});

test('the trainer feeds a non-TTY writer: iteration, validation and epoch lines parse and add up', async (t) => {
  await useBackend('cpu');
  const log = logStream();
  const events: TrainingEvent[] = [];
  const write = createProgressWriter(log.stream, '', { intervalSeconds: 0 });
  const cases = diskValidationCases(4, 3, [16, 16]);
  await train({
    model: buildUNet(TINY_UNET, [16, 16]),
    loss: testLoss(),
    openData: (_epoch, seed) => diskSource(seed, 2, [16, 16]),
    epochs: 2,
    iterationsPerEpoch: 3,
    learningRate: 0.01,
    seed: 2,
    outDir: mkdtempSync(path.join(tmpdir(), 'rwseg-progress-')),
    validation: { cases, every: 1, patch: [16, 16], numClasses: 2, metrics: diceOnlyMetrics, overlays: 0 },
    onEvent: (e) => {
      events.push(e);
      write(e);
    },
  });
  const lines = log.lines();
  t.regex(lines[0]!, /^training epochs 1\.\.2, 3 iterations per epoch, progress every 0s$/);
  const parsed = lines.slice(1).map((l) => ({
    l,
    it: ITERATION_LINE.exec(l),
    val: VALIDATION_LINE.exec(l),
    epoch: EPOCH_LINE.exec(l),
  }));
  for (const p of parsed) t.truthy(p.it ?? p.val ?? p.epoch, `unparsed line: ${p.l}`);
  // Interval 0: every iteration but the epoch's last, every validation case, every epoch.
  const iterations = parsed.filter((p) => p.it).map((p) => `${p.it![1]}:${p.it![3]}/${p.it![4]}`);
  t.deepEqual(iterations, ['1:1/3', '1:2/3', '2:1/3', '2:2/3']);
  const validated = parsed.filter((p) => p.val).map((p) => `${p.val![1]}:${p.val![3]}/${p.val![4]} ${p.val![5]}`);
  t.deepEqual(validated, ['1:1/3 val-0', '1:2/3 val-1', '1:3/3 val-2', '2:1/3 val-0', '2:2/3 val-1', '2:3/3 val-2']);
  const epochs = parsed.filter((p) => p.epoch);
  t.deepEqual(
    epochs.map((p) => p.epoch![1]),
    ['1', '2'],
  );
  for (const p of epochs) t.truthy(p.epoch![5], 'the epoch line carries the validation Dice');
  // The loss printed is the step's loss the trainer reported.
  const reported = events.filter((e): e is Extract<TrainingEvent, { type: 'iteration' }> => e.type === 'iteration');
  t.is(Number(parsed.find((p) => p.it)!.it![5]), Number(reported[0]!.loss.toFixed(4)));
  for (const p of parsed.filter((x) => x.it)) t.true(Number(p.it![7]) > 0, p.l);
});
