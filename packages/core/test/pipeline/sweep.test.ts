import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  collectSweep,
  isRwsegError,
  parsePipeline,
  parseResources,
  parseTimeLimit,
  planPipelineRuns,
  planSweep,
  readSweepPlan,
  runPipelineConfig,
  runProgress,
  runSweepTask,
  taskIndexFromEnvironment,
  useBackend,
  writeSweepPlan,
} from '../../src/index.js';

test.before(async () => {
  await useBackend('cpu');
});

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'rwseg-sweep-'));

const tinySweep = (sweep: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  parsePipeline({
    name: 'tiny',
    seed: 3,
    backend: 'cpu',
    dataset: { kind: 'synthetic', shape: [24, 24], train: 4, validation: 2 },
    preprocessing: { patch: [16, 16] },
    model: { depth: 2, baseFilters: 2 },
    loss: 'dice',
    training: { epochs: 2, iterationsPerEpoch: 2, batchSize: 2, workers: 0 },
    evaluation: { every: 1, overlays: 0 },
    sweep: {
      losses: [
        { name: 'dice', loss: 'dice' },
        { name: 'ce', loss: 'cross-entropy' },
      ],
      folds: 2,
      ...sweep,
    },
    ...extra,
  });

test('sweep.folds: a count sets split kfold; a list picks folds of split.folds; bad folds name the YAML path', (t) => {
  const all = tinySweep();
  t.deepEqual(all.sweep!.folds, [0, 1]);
  t.deepEqual(all.split, { method: 'kfold', seed: 0, folds: 2, fold: 0 });
  const some = tinySweep({ folds: [0, 2] }, { split: { method: 'kfold', folds: 5, seed: 9 } });
  t.deepEqual(some.sweep!.folds, [0, 2]);
  t.is(some.split!.seed, 9);
  t.deepEqual(tinySweep({ folds: [4] }).split!.folds, 5);
  const message = (fn: () => unknown) => t.throws(fn)!.message;
  t.regex(
    message(() => tinySweep({ folds: 3 }, { split: { method: 'kfold', folds: 5 } })),
    /sweep\.folds: 3 folds, but split\.folds is 5/,
  );
  t.regex(
    message(() => tinySweep({ folds: [5] })),
    /sweep\.folds: fold 5 is out of range: with 5 folds \(split\.folds\), folds are 0\.\.4/,
  );
  t.regex(
    message(() => tinySweep({ folds: 1 })),
    /sweep\.folds/,
  );
  t.regex(
    message(() => tinySweep({ folds: undefined }, { split: { method: 'kfold', folds: 3, fold: 3 } })),
    /split\.fold: fold 3 is out of range: with 3 folds, fold is 0\.\.2/,
  );
});

test('a sweep plans losses x seeds x folds in the order pipeline run trains them', (t) => {
  const runs = planPipelineRuns(tinySweep({ seeds: [1, 2] }), '/out');
  t.deepEqual(
    runs.map((r) => r.index),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  t.deepEqual(
    runs.slice(0, 4).map((r) => r.name),
    ['dice/seed-1/fold-0', 'dice/seed-1/fold-1', 'dice/seed-2/fold-0', 'dice/seed-2/fold-1'],
  );
  t.is(runs[5]!.dir, path.join('/out', 'ce', 'seed-1', 'fold-1'));
  t.is(runs[5]!.lossPath, 'sweep.losses[1].loss');
});

// One code path: task N of the plan trains exactly what pipeline run trains at position N.
test.serial(
  'k-fold sweep: folds validate disjoint cases that cover the set, pool in the comparison, and run-task N equals run N',
  async (t) => {
    const config = tinySweep();
    const out = tempDir();
    const result = await runPipelineConfig(config, { out });
    t.deepEqual(
      result.runs.map((r) => [r.lossName, r.fold]),
      [
        ['dice', 0],
        ['dice', 1],
        ['ce', 0],
        ['ce', 1],
      ],
    );
    const recorded = result.runs.map((r) => JSON.parse(readFileSync(path.join(r.outDir, 'config.json'), 'utf8')).split);
    t.deepEqual(
      recorded.map((s) => [s.fold, s.folds]),
      [
        [0, 2],
        [1, 2],
        [0, 2],
        [1, 2],
      ],
    );
    const [fold0, fold1] = [recorded[0].validationCases as string[], recorded[1].validationCases as string[]];
    t.deepEqual([...fold0, ...fold1].sort(), [
      'synth_000',
      'synth_001',
      'synth_002',
      'synth_003',
      'synth_004',
      'synth_005',
    ]);
    t.deepEqual(result.runs[0]!.result.finalValidation!.cases.map((c) => c.id).sort(), [...fold0].sort());
    // Both folds' validation cases pool per loss: 6 cases, each once.
    const dice = result.comparison!.find((c) => c.loss === 'dice')!;
    t.is(dice.summary.cases.length, 6);
    t.is(new Set(dice.summary.cases.map((c) => c.id)).size, 6);

    const plan = planSweep(config, { out: tempDir() });
    const file = writeSweepPlan(plan);
    const task = await runSweepTask(readSweepPlan(file), 3);
    t.is(task.state, 'done');
    const history = (dir: string) =>
      readFileSync(path.join(dir, 'history.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { loss, gradNorm, validation } = JSON.parse(l);
          return { loss, gradNorm, validation };
        });
    t.deepEqual(history(task.task.dir), history(result.runs[3]!.outDir));
    t.deepEqual(task.run!.result.finalValidation!.cases, result.runs[3]!.result.finalValidation!.cases);
    const again = await runSweepTask(readSweepPlan(file), 3);
    t.true(again.alreadyDone);
    t.is(again.status.attempts, 1);

    const partial = collectSweep(readSweepPlan(file), { write: false });
    t.false(partial.complete);
    t.deepEqual(
      partial.tasks.map((x) => x.state),
      ['missing', 'missing', 'missing', 'done'],
    );
    t.is(partial.comparison, undefined);
    const some = collectSweep(readSweepPlan(file), { partial: true, write: false });
    t.deepEqual(
      some.comparison!.map((c) => [c.loss, c.summary.cases.length]),
      [['ce', 3]],
    );

    // With the sweep's reference not done yet, the partial comparison has no paired tests (and says why).
    const planned = readSweepPlan(file);
    const sweep = (planned.pipeline as { sweep: object }).sweep;
    const withReference = {
      ...planned,
      pipeline: { ...(planned.pipeline as object), sweep: { ...sweep, reference: 'dice' } },
    };
    const partialOut = tempDir();
    const noReference = collectSweep({ ...withReference, outDir: partialOut }, { partial: true });
    t.deepEqual(readdirSync(partialOut).sort(), ['comparison.csv', 'comparison.md']);
    t.deepEqual(
      noReference.files!.map((f) => path.basename(f)),
      ['comparison.md', 'comparison.csv'],
    );
    t.is(noReference.comparison!.length, 1);
    t.is(noReference.pairedTests, undefined);
    t.is(noReference.pairedTestsSkipped, "no paired tests: no run of the reference loss 'dice' is done yet");
    t.truthy(some.pairedTests);
    t.is(some.pairedTestsSkipped, undefined);

    // The done run's record, kept without its model, collects to the same comparison.
    const kept = tempDir();
    collectSweep(readSweepPlan(file), { partial: true, write: false, records: kept });
    t.deepEqual(readdirSync(kept), ['ce']);
    t.deepEqual(readdirSync(path.join(kept, task.task.name)).sort(), [
      'config.json',
      'history.jsonl',
      'summary.json',
      'task.json',
    ]);
    const fromRecords = collectSweep(readSweepPlan(file), { partial: true, runs: kept });
    t.deepEqual(
      fromRecords.tasks.map((x) => [x.state, x.note]),
      [
        ['missing', undefined],
        ['missing', undefined],
        ['missing', undefined],
        ['done', 'record only (no model/)'],
      ],
    );
    t.deepEqual(fromRecords.comparison, some.comparison);
    t.true(existsSync(path.join(kept, 'comparison.md')));
    const same = t.throws(() => collectSweep(readSweepPlan(file), { runs: kept, records: kept }));
    t.true(isRwsegError(same, 'INVALID_OPTIONS'));
    t.true(isRwsegError(await t.throwsAsync(runSweepTask(readSweepPlan(file), 4)), 'INVALID_OPTIONS'));
  },
);

test('time limits read as Slurm writes them; resources default and are checked', (t) => {
  t.is(parseTimeLimit('90'), 5400);
  t.is(parseTimeLimit('4:00:00'), 14400);
  t.is(parseTimeLimit('10:30'), 630);
  t.is(parseTimeLimit('1-12'), 129600);
  t.is(parseTimeLimit('2-00:30:00'), 174600);
  const defaults = parseResources({});
  t.deepEqual(
    [defaults.timeSeconds, defaults.cpus, defaults.memMiB, defaults.gpus, defaults.signalSeconds],
    [14400, 4, 16384, 0, 300],
  );
  // The signal default leaves half of a short limit for training.
  t.is(parseResources({ time: '4' }).signalSeconds, 120);
  t.is(parseResources({ mem: '1500M' }).memMiB, 1500);
  const error = t.throws(() => parseResources({ cpus: 'two' }));
  t.true(isRwsegError(error, 'INVALID_OPTIONS'));
  t.deepEqual((error as unknown as { details: unknown }).details, { option: 'cpus' });
});

test('the task number comes from the argument, else SLURM_ARRAY_TASK_ID, else JOB_COMPLETION_INDEX', (t) => {
  t.is(taskIndexFromEnvironment('3', { SLURM_ARRAY_TASK_ID: '5' }), 3);
  t.is(taskIndexFromEnvironment(undefined, { SLURM_ARRAY_TASK_ID: '5', JOB_COMPLETION_INDEX: '6' }), 5);
  t.is(taskIndexFromEnvironment(undefined, { JOB_COMPLETION_INDEX: '6' }), 6);
  t.regex(t.throws(() => taskIndexFromEnvironment(undefined, {}))!.message, /no task number/);
  t.regex(t.throws(() => taskIndexFromEnvironment('x', {}))!.message, /the task argument 'x' is not a task number/);
});

test('run k of N lines carry an ETA from the finished runs', (t) => {
  const progress = runProgress(4);
  t.is(progress.starting(0), 'run 1 of 4');
  progress.finished(30);
  progress.finished(90);
  t.is(progress.starting(2), 'run 3 of 4, ETA 2m00s (1m00s per run)');
});

test.serial(
  'pipeline run: a run stopped in its first epoch resumes with --resume (settings checked) to the same end',
  async (t) => {
    const config = tinySweep(
      {},
      { sweep: undefined, training: { epochs: 2, iterationsPerEpoch: 3, batchSize: 2, workers: 0 } },
    );
    const out = tempDir();
    const stop = { aborted: false };
    const stopped = await runPipelineConfig(config, {
      out,
      stop,
      onEvent: (_run, e) => {
        if (e.type === 'iteration' && e.epoch === 1 && e.iteration === 0) stop.aborted = true;
      },
    });
    t.is(stopped.stopped, 'tiny');
    t.deepEqual(stopped.runs[0]!.result.stopped!.iteration, 1);
    const other = { ...config, loss: 'cross-entropy' as const };
    const error = await t.throwsAsync(runPipelineConfig(other, { out, resume: true }));
    t.regex(error!.message, /--resume: the settings differ .* loss \(was "dice", now "cross-entropy"\)/);
    const resumed = await runPipelineConfig(config, { out, resume: true });
    const straight = await runPipelineConfig(config, { out: tempDir() });
    const losses = (r: typeof resumed) => r.runs[0]!.result.history.map((e) => [e.loss, e.gradNorm]);
    t.deepEqual(losses(resumed), losses(straight));
    t.deepEqual(resumed.runs[0]!.result.finalValidation!.cases, straight.runs[0]!.result.finalValidation!.cases);
  },
);
