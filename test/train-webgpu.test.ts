/**
 * `rwseg train/pipeline run --backend webgpu` end to end on Mesa lavapipe (a software Vulkan driver, so this runs
 * in CI without a GPU): the real binary trains a small quickstart, reports the WebGPU adapter in its results, and
 * its losses match the wasm and cpu backends. Without RWSEG_WEBGPU_ALLOW_SOFTWARE the software adapter is refused.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorText, parseJson, runCli, type CliResult } from '@rwseg/test-helpers/cli';
import { LAVAPIPE_ONLY, lavapipeTest } from '@rwseg/test-helpers/lavapipe';
import { sets } from '@rwseg/test-helpers/command-lines';

// A couple of single-iteration epochs on 32x32 patches of a depth-3, 4-filter U-Net: seconds on lavapipe.
const small = [
  '--set',
  'dataset.shape=[32,32]',
  '--set',
  'dataset.train=4',
  '--set',
  'dataset.validation=1',
  '--set',
  'preprocessing.patch=[32,32]',
  '--set',
  'model.depth=3',
  '--set',
  'model.baseFilters=4',
  '--set',
  'training.batchSize=2',
  '--set',
  'training.epochs=2',
  '--set',
  'training.iterationsPerEpoch=1',
  '--set',
  'evaluation.overlays=0',
  '--set',
  'export.onnx=false',
];
const allowSoftware = { ...LAVAPIPE_ONLY, RWSEG_WEBGPU_ALLOW_SOFTWARE: '1' };
// The variable may be set in the environment running the tests; the refusal test must not inherit it.
const refuseSoftware = { ...LAVAPIPE_ONLY, RWSEG_WEBGPU_ALLOW_SOFTWARE: '' };

interface HistoryLine {
  epoch: number;
  loss: number;
  gradNorm: number;
}

// The same quickstart in 3D: 16^3 synthetic volumes, a depth-2 3D U-Net (conv3d, instance norm on rank-5
// tensors, max-pool 3D, conv3dTranspose up-sampling), two single-iteration epochs.
const small3d = sets({
  'dataset.shape': '[16,16,16]',
  'dataset.train': '4',
  'dataset.validation': '1',
  'preprocessing.patch': '[16,16,16]',
  'model.depth': '2',
  'model.baseFilters': '4',
  'training.batchSize': '2',
  'training.epochs': '2',
  'training.iterationsPerEpoch': '1',
  'evaluation.overlays': '0',
  'export.onnx': 'false',
});

async function pipelineRun(
  backend: string,
  env: NodeJS.ProcessEnv = {},
  args = small,
): Promise<{ result: CliResult; out: string }> {
  const out = mkdtempSync(path.join(tmpdir(), `rwseg-gpu-${backend}-`));
  const command = [
    'pipeline',
    'run',
    'pipelines/quickstart.yaml',
    '--backend',
    backend,
    '--out',
    out,
    '--json',
    ...args,
  ];
  const result = await runCli(command, { env });
  return { result, out };
}

function history(out: string): HistoryLine[] {
  return readFileSync(path.join(out, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HistoryLine);
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

lavapipeTest(
  'pipeline run --backend webgpu trains on lavapipe, reports the adapter, and matches wasm and cpu',
  async (t) => {
    // One at a time: the machine has two cores and lavapipe uses them all.
    const webgpu = await pipelineRun('webgpu', allowSoftware);
    t.is(webgpu.result.code, 0, errorText(webgpu.result));
    const wasm = await pipelineRun('wasm');
    t.is(wasm.result.code, 0, errorText(wasm.result));
    const cpu = await pipelineRun('cpu');
    t.is(cpu.result.code, 0, errorText(cpu.result));

    // The adapter (vendor, architecture, driver) is in the --json results and in the run's config.json.
    const json = parseJson(webgpu.result);
    t.is(json.backend, 'webgpu');
    const adapter = json.backendInfo.details.adapter;
    t.is(adapter.vendor, 'mesa');
    t.true(adapter.isSoftware);
    t.regex(adapter.description, /llvmpipe: Mesa \d+\.\d+/);
    t.regex(adapter.device, /llvmpipe/);
    t.is(typeof adapter.architecture, 'string');
    t.true(adapter.limits.maxStorageBuffersPerShaderStage >= 8);
    t.deepEqual(
      JSON.parse(readFileSync(path.join(webgpu.out, 'config.json'), 'utf8')).backendInfo.details.adapter,
      adapter,
    );
    t.regex(webgpu.result.stderr, /webgpu adapter \{"vendor":"mesa"/);
    t.is(parseJson(wasm.result).backendInfo.name, 'wasm');

    // Same seed, same data, same initial weights: the first loss and gradient norm differ only by the order of
    // float32 sums over 2x32x32x3 = 6144 values (relative error ~ sqrt(n) * 6e-8, about 5e-6), so 1e-4 relative
    // is tight enough to catch any wrong kernel (a wrong sum or a zeroed addN moves them by percents). The second
    // epoch's loss follows one AdamW step, which divides by sqrt(v): gradients near zero can amplify those
    // differences, hence 1e-3 there.
    const [g, w, c] = [history(webgpu.out), history(wasm.out), history(cpu.out)];
    t.is(g.length, 2);
    for (const reference of [w, c]) {
      t.true(relative(g[0]!.loss, reference[0]!.loss) < 1e-4, `first loss ${g[0]!.loss} vs ${reference[0]!.loss}`);
      t.true(
        relative(g[0]!.gradNorm, reference[0]!.gradNorm) < 1e-4,
        `first gradient norm ${g[0]!.gradNorm} vs ${reference[0]!.gradNorm}`,
      );
      t.true(relative(g[1]!.loss, reference[1]!.loss) < 1e-3, `second loss ${g[1]!.loss} vs ${reference[1]!.loss}`);
    }
    // Training did something: the loss moved after one step.
    t.true(Math.abs(g[1]!.loss - g[0]!.loss) > 1e-3);
  },
);

lavapipeTest('a 3D U-Net trains on webgpu (lavapipe) with the losses of wasm and cpu', async (t) => {
  // TF.js's webgpu binary ops and Select fail on rank-5 tensors; rwseg collapses them to rank 4
  // (packages/tfjs-training-backends/src/webgpu/binary-rank.ts).
  const webgpu = await pipelineRun('webgpu', allowSoftware, small3d);
  t.is(webgpu.result.code, 0, errorText(webgpu.result));
  t.notRegex(webgpu.result.stderr, /validation error/);
  const wasm = await pipelineRun('wasm', {}, small3d);
  t.is(wasm.result.code, 0, errorText(wasm.result));
  const cpu = await pipelineRun('cpu', {}, small3d);
  t.is(cpu.result.code, 0, errorText(cpu.result));
  const [g, w, c] = [history(webgpu.out), history(wasm.out), history(cpu.out)];
  t.is(g.length, 2);
  // Tolerances as in the 2D test above (float32 sums over 2 x 16^3 x 3 values in another order).
  for (const reference of [w, c]) {
    t.true(relative(g[0]!.loss, reference[0]!.loss) < 1e-4, `first loss ${g[0]!.loss} vs ${reference[0]!.loss}`);
    const norms = `first gradient norm ${g[0]!.gradNorm} vs ${reference[0]!.gradNorm}`;
    t.true(relative(g[0]!.gradNorm, reference[0]!.gradNorm) < 1e-4, norms);
    t.true(relative(g[1]!.loss, reference[1]!.loss) < 1e-3, `second loss ${g[1]!.loss} vs ${reference[1]!.loss}`);
  }
  t.true(Math.abs(g[1]!.loss - g[0]!.loss) > 1e-3);
});

lavapipeTest('rwseg train --backend webgpu reports the adapter in its --json results', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'rwseg-gpu-train-'));
  const result = await runCli(
    ['train', '--config', 'pipelines/quickstart.yaml', '--backend', 'webgpu', '--out', out, '--json', ...small],
    { env: allowSoftware },
  );
  t.is(result.code, 0, errorText(result));
  const json = parseJson(result);
  t.is(json.backend, 'webgpu');
  t.is(json.epochsRun, 2);
  t.regex(json.backendInfo.details.adapter.description, /llvmpipe/);
  t.true(Number.isFinite(json.finalLoss));
});

lavapipeTest(
  'without RWSEG_WEBGPU_ALLOW_SOFTWARE, --backend webgpu on a software adapter exits 2 naming it and the switch',
  async (t) => {
    for (const command of [
      ['train', '--config'],
      ['pipeline', 'run'],
    ]) {
      const out = mkdtempSync(path.join(tmpdir(), 'rwseg-gpu-refused-'));
      const result = await runCli(
        [...command, 'pipelines/quickstart.yaml', '--backend', 'webgpu', '--out', out, ...small],
        { env: refuseSoftware },
      );
      t.is(result.code, 2, errorText(result));
      const text = errorText(result);
      t.regex(text, /software rasteriser \(llvmpipe: Mesa/);
      t.regex(text, /RWSEG_WEBGPU_ALLOW_SOFTWARE=1/);
      t.notRegex(text, /at .*\.js:\d+/, 'no stack trace');
    }
  },
);
