/**
 * Data-parallel training (training/data-parallel.ts): two compute threads give the gradients of one thread for a
 * loss that is a mean over samples in a model without batch statistics, the trainer and the pipeline run with
 * them (deep supervision, map-based losses, resume), and a failing worker fails the run with a clear error and
 * leaves no thread behind.
 */
import test from 'ava';
import * as tfl from '@tensorflow/tfjs-layers';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildLoss,
  buildUNet,
  createRegistry,
  definePlugin,
  GradientWorkers,
  isRwsegError,
  lossAndGradients,
  lossSpec,
  parsePipeline,
  PLUGIN_API_VERSION,
  readHistory,
  resolveThreads,
  runPipelineConfig,
  splitBatch,
  tf,
  train,
  useBackend,
  type Batch,
  type Loss,
  type LossConfig,
  type PluginRegistry,
  type ScaleTargets,
} from '../../src/index.js';
import { diskBatch, oneHot, testLoss, TINY_UNET } from '../helpers/toy-training.js';

const PATCH: [number, number] = [16, 16];
let registry: PluginRegistry;

test.before(async () => {
  await useBackend('cpu');
  registry = await createRegistry({ packageJson: false });
});

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'rwseg-dp-'));

/** A depth-3 U-Net with instance norm (per-sample statistics: splitting the batch changes nothing) and `heads` outputs. */
const instanceNormUNet = (heads: number) =>
  buildUNet({ ...TINY_UNET, depth: 3, normalization: 'instance', deepSupervision: heads }, PATCH);

/**
 * A disk batch with `heads` deep-supervision scales (labels subsampled by 2 per scale) and the loss's maps computed
 * per sample and per scale by the registered generators, as the loader does.
 */
function batchFor(loss: Loss, seed: number, size: number, heads: number): Batch {
  const base = diskBatch(seed, size, PATCH);
  const full = base.scales[0]!;
  const scales: ScaleTargets[] = [];
  for (let s = 0; s < heads; s++) {
    const step = 2 ** s;
    const shape = PATCH.map((p) => p / step);
    const n = shape[0]! * shape[1]!;
    const labels = new Int32Array(size * n);
    for (let b = 0; b < size; b++)
      for (let y = 0; y < shape[0]!; y++)
        for (let x = 0; x < shape[1]!; x++)
          labels[b * n + y * shape[1]! + x] = full.labels[b * PATCH[0] * PATCH[1] + y * step * PATCH[1] + x * step]!;
    const maps: Record<string, Float32Array> = {};
    for (const request of loss.requiredMaps) {
      const generator = registry.createMapGenerator(request.map, { ...request.options });
      const out = new Float32Array(size * n * 2);
      for (let b = 0; b < size; b++)
        out.set(
          generator.generate({
            labels: labels.subarray(b * n, (b + 1) * n),
            shape,
            numClasses: 2,
            spacing: [step, step],
          }),
          b * n * 2,
        );
      maps[request.key] = out;
    }
    scales.push({ shape, labels, target: oneHot(labels, 2), maps });
  }
  return { ...base, scales };
}

const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);

test('splitBatch cuts every array along the sample axis into contiguous shares, the first ones larger', (t) => {
  const loss = registry.createLoss('rrw');
  const batch = batchFor(loss, 5, 5, 2);
  const shares = splitBatch(batch, 2);
  t.deepEqual(
    shares.map((s) => s.size),
    [3, 2],
  );
  t.deepEqual(
    shares.flatMap((s) => s.caseIds),
    [...batch.caseIds],
  );
  const joined = <T extends Float32Array | Int32Array>(pick: (b: Batch) => T) => shares.flatMap((s) => [...pick(s)]);
  t.deepEqual(
    joined((b) => b.image),
    [...batch.image],
  );
  for (let s = 0; s < 2; s++) {
    t.deepEqual(
      joined((b) => b.scales[s]!.labels),
      [...batch.scales[s]!.labels],
    );
    t.deepEqual(
      joined((b) => b.scales[s]!.target),
      [...batch.scales[s]!.target],
    );
    t.deepEqual(
      joined((b) => b.scales[s]!.maps[loss.requiredMaps[0]!.key]!),
      [...batch.scales[s]!.maps[loss.requiredMaps[0]!.key]!],
    );
  }
  t.deepEqual(
    splitBatch(batch, 8).map((s) => s.size),
    [1, 1, 1, 1, 1],
  );
});

/**
 * Two threads against one on the same weights and batch. 3 samples split 2 + 1, so a plain mean of the two shares'
 * gradients (instead of the sample-count weighting) would be off by a third of their difference, far beyond the
 * tolerance. The tolerance, 1e-5 of each gradient's largest entry, is float32 rounding of sums taken in another
 * order (about sqrt(pixels) x 1.2e-7 relative; measured up to 6e-7 here) with a margin of 15.
 */
for (const [title, config, heads] of [
  ['cross-entropy', 'cross-entropy', 1],
  // Gradual weights follow the epoch: a worker fed another epoch would weigh the two losses differently.
  [
    'deep supervision and a map-based loss (cross-entropy + rrw, gradual weights, 2 heads)',
    { combine: ['cross-entropy', 'rrw'], weights: 'gradual' },
    2,
  ],
] as [string, LossConfig, number][]) {
  test.serial(`two threads give the gradients of one: ${title}`, async (t) => {
    const loss = buildLoss(registry, config);
    const model = instanceNormUNet(heads);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const batch = batchFor(loss, 9, 3, heads);
    const ctx = { epoch: 40, dsWeights: heads === 1 ? [1] : [2 / 3, 1 / 3], variables };
    const single = await lossAndGradients(model, loss, batch, ctx);
    const workers = await GradientWorkers.start(model, ctx.dsWeights, { threads: 2, loss: config });
    try {
      const parallel = await workers.lossAndGradients(model, loss, batch, ctx);
      t.true(
        Math.abs(parallel.value - single.value) <= 1e-5 * Math.abs(single.value),
        `loss ${parallel.value} vs ${single.value}`,
      );
      t.is(parallel.perScale.length, heads);
      parallel.grads.forEach((g, i) => {
        const scale = maxAbs(single.grads[i]!);
        t.true(scale > 0, `variable ${variables[i]!.name} has a gradient`);
        const diff = tf.tidy(() => maxAbs(tf.sub(g, single.grads[i]!)));
        t.true(diff <= 1e-5 * scale, `${variables[i]!.name}: max difference ${diff}, largest entry ${scale}`);
      });
      tf.dispose([...single.grads, ...parallel.grads]);
    } finally {
      await workers.close();
    }
    model.dispose();
  });
}

test.serial(
  'any layers model works, and a one-variable model keeps its weights (its buffer is never transferred)',
  async (t) => {
    const input = tfl.input({ shape: [...PATCH, 1] });
    const model = tfl.model({
      inputs: input,
      outputs: tfl.layers
        .conv2d({
          filters: 2,
          kernelSize: 1,
          useBias: false,
          activation: 'softmax',
          kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }),
        })
        .apply(input) as tfl.SymbolicTensor,
    });
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    t.is(variables.length, 1);
    const before = [...variables[0]!.dataSync()];
    const loss = registry.createLoss('cross-entropy');
    const batch = diskBatch(4, 2, PATCH);
    const ctx = { epoch: 0, dsWeights: [1], variables };
    const single = await lossAndGradients(model, loss, batch, ctx);
    const workers = await GradientWorkers.start(model, [1], { threads: 2, loss: 'cross-entropy' });
    try {
      const parallel = await workers.lossAndGradients(model, loss, batch, ctx);
      t.deepEqual([...variables[0]!.dataSync()], before);
      const diff = tf.tidy(() => maxAbs(tf.sub(parallel.grads[0]!, single.grads[0]!)));
      t.true(diff <= 1e-5 * maxAbs(single.grads[0]!), `max difference ${diff}`);
      tf.dispose([...single.grads, ...parallel.grads]);
    } finally {
      await workers.close();
    }
  },
);

test.serial(
  'training with two threads ends at the weights of one thread after a few steps (cross-entropy, instance norm)',
  async (t) => {
    const batches = [diskBatch(31, 4, PATCH), diskBatch(32, 4, PATCH), diskBatch(33, 4, PATCH)];
    const run = async (threads: number) => {
      const model = instanceNormUNet(1);
      const losses: number[] = [];
      await train({
        model,
        loss: registry.createLoss('cross-entropy'),
        openData: () => {
          let i = 0;
          return { next: async () => batches[i++ % batches.length]!, close: async () => {} };
        },
        epochs: 1,
        iterationsPerEpoch: 3,
        learningRate: 0.001,
        seed: 2,
        outDir: tempDir(),
        dataParallel: { threads, loss: 'cross-entropy' },
        onEvent: (e) => e.type === 'iteration' && losses.push(e.loss),
      });
      return { weights: model.trainableWeights.map((w) => w.read()), losses };
    };
    const one = await run(1);
    const two = await run(2);
    one.losses.forEach((l, i) =>
      t.true(Math.abs(l - two.losses[i]!) <= 1e-5 * l, `step ${i}: loss ${two.losses[i]} vs ${l}`),
    );
    // Adam moves each weight by about lr per step whatever the gradient's size: a gradient entry of the wrong sign or
    // size would show as a difference near 1e-3; rounding in the gradients gives differences up to 6e-7 here.
    one.weights.forEach((w, i) => {
      const diff = tf.tidy(() => maxAbs(tf.sub(w, two.weights[i]!)));
      t.true(diff < 1e-5, `weight ${i}: max difference ${diff}`);
    });
  },
);

/** One training step of the tiny U-Net with `loss` in the training thread and `dataParallel` for the workers. */
const trainOneStep = (loss: Loss, dataParallel: Parameters<typeof train>[0]['dataParallel']) =>
  train({
    model: buildUNet(TINY_UNET, PATCH),
    loss,
    openData: () => ({ next: async () => diskBatch(1, 2, PATCH), close: async () => {} }),
    epochs: 1,
    iterationsPerEpoch: 1,
    learningRate: 0.01,
    seed: 1,
    outDir: tempDir(),
    dataParallel,
  });

test.serial('a worker that cannot build the loss fails the run at start, naming the worker and the loss', async (t) => {
  // The training thread has the test-only loss; the worker's registry (built-ins only) does not.
  const error = await t.throwsAsync(trainOneStep(testLoss(), { threads: 2, loss: 'test-dice-ce' }));
  t.true(isRwsegError(error, 'WORKER_FAILED'), String(error));
  t.regex(error!.message, /gradient worker 1 \(training\.threads 2\) failed to start: .*test-dice-ce/);
});

test.serial('a loss spec that builds another loss than the trainer was given is refused before any step', async (t) => {
  // The trainer holds dice, the spec says cross-entropy: the workers would compute another loss's gradients.
  const error = await t.throwsAsync(
    trainOneStep(registry.createLoss('dice'), { threads: 2, ...lossSpec('cross-entropy') }),
  );
  t.true(isRwsegError(error, 'INVALID_CONFIG'), String(error));
  t.regex(
    error!.message,
    /worker 1 built loss cross-entropy \[\] from the loss spec, but the trainer's loss is dice \[\]/,
  );
  const plugin = definePlugin({ apiVersion: PLUGIN_API_VERSION, name: 'in-memory', losses: [] });
  t.throws(() => lossSpec('dice', [plugin]), { message: /plugin objects cannot cross into worker threads/ });
});

test.serial('a worker that throws during a step fails the run with its cause, and the process exits', async (t) => {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../helpers/train-parallel-child.js', import.meta.url))],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // The child returns after catching the error: it exits by itself only if no worker thread is left.
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 90_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  t.is(code, 0, `the child exited by itself; stderr: ${stderr}`);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { code: string; message: string };
  t.is(result.code, 'WORKER_FAILED');
  t.regex(
    result.message,
    /gradient worker 1 \(training\.threads 2\) failed at a step: native helper libfoo\.so is not available/,
  );
});

const tinyPipeline = (epochs: number, training: Record<string, unknown> = {}) =>
  parsePipeline({
    name: 'tiny-dp',
    seed: 3,
    backend: 'cpu',
    dataset: { kind: 'synthetic', shape: [24, 24], train: 4, validation: 2 },
    preprocessing: { patch: [16, 16] },
    model: { depth: 3, baseFilters: 2, deepSupervision: 2 },
    loss: { combine: ['rrw', 'dice'] },
    training: { epochs, iterationsPerEpoch: 2, batchSize: 2, workers: 1, threads: 2, ...training },
    evaluation: { every: 1, overlays: 0 },
  });

test.serial(
  'a pipeline with training.threads 2 (deep supervision, rrw + Dice) runs, writes its history, and resumes',
  async (t) => {
    const out = tempDir();
    const first = await runPipelineConfig(tinyPipeline(1), { out });
    t.is(first.runs[0]!.result.epochsRun, 1);
    t.deepEqual(
      readHistory(path.join(out, 'history.jsonl')).map((e) => e.epoch),
      [1],
    );
    t.is(
      (JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')) as { training: { threads: number } }).training
        .threads,
      2,
    );
    // The threads-2 run's checkpoint resumes, with threads 2 again, for a second epoch.
    const events: { startEpoch: number; resumedFrom?: string }[] = [];
    const resumed = await runPipelineConfig(tinyPipeline(2), {
      out,
      resume: true,
      onEvent: (_run, e) => e.type === 'start' && events.push(e),
    });
    t.is(events[0]!.startEpoch, 1);
    t.regex(events[0]!.resumedFrom!, /epoch-0001\.ckpt$/);
    t.is(resumed.runs[0]!.result.epochsRun, 1);
    const history = readHistory(path.join(out, 'history.jsonl'));
    t.deepEqual(
      history.map((e) => e.epoch),
      [1, 2],
    );
    t.true(history.every((e) => Number.isFinite(e.loss) && e.validation !== undefined));
  },
);

test('training.threads is checked against the backend and the batch size; auto means the cores on wasm only', async (t) => {
  const error = await t.throwsAsync(runPipelineConfig(tinyPipeline(1, { threads: 3 }), { out: tempDir() }));
  t.true(isRwsegError(error, 'INVALID_CONFIG'));
  t.regex(error!.message, /training\.threads 3 exceeds training\.batchSize 2/);
  t.throws(() => tinyPipeline(1, { threads: 0 }), { message: /training\.threads/ });
  t.is(tinyPipeline(1, { threads: undefined }).training.threads, 1);
  t.is(tinyPipeline(1, { threads: 'auto' }).training.threads, 'auto');
  t.is(resolveThreads('auto', 'wasm', 4, 2), 2);
  t.is(resolveThreads('auto', 'wasm', 1, 2), 1);
  t.is(resolveThreads('auto', 'cpu', 4, 2), 1);
  t.is(resolveThreads('auto', 'tensorflow', 4, 16), 1);
  t.is(resolveThreads(3, 'wasm', 4, 2), 3);
});
