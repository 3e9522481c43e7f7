/**
 * Atomic export: `rwseg export --force` over an existing export, killed with -9 at each step of its commit
 * (RWSEG_TEST_EXPORT_PAUSE, test-only, stops it at a known point), leaves the old model or the new one, never a
 * mix; the server serves whichever it finds, and its answer is that model's. Both formats: a plain onnx folder
 * (two renames, sha256-checked) and a Triton repository (the version folder appears in one rename).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import * as ort from 'onnxruntime-node';
import { buildModelArtifact } from '@rwseg/core/artifact';
import { COMMIT_STEPS } from '@rwseg/core/testing';
import { buildUNet, saveModelDir } from '@rwseg/core/training';
import { createServer } from '@rwseg/server';
import { CLI_BIN, errorText, REPO_ROOT, runCli } from '@rwseg/test-helpers/cli';

const temp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const PATCH = [16, 16];

/** A finished run folder holding an untrained tiny U-Net (seeded: two seeds, two different models). */
async function fakeRun(seed: number): Promise<string> {
  const run = temp('rwseg-kill-run-');
  const unet = { dims: 2 as const, depth: 2, baseFilters: 2, numClasses: 2, inputChannels: 1, seed };
  const artifact = buildModelArtifact({
    config: {
      seed,
      preprocessing: { normalization: 'zscore', patch: PATCH },
      model: { depth: 2, baseFilters: 2 },
      loss: 'dice',
    },
    dataDims: 2,
    inputChannels: 1,
    classNames: ['background', 'cell'],
    unet,
    metrics: { epoch: 1, selection: 'last-epoch', meanDice: null, classes: null },
  });
  await saveModelDir(
    buildUNet(unet, PATCH),
    path.join(run, 'model'),
    {},
    { ...artifact, training: { ...artifact.training, config: null } },
  );
  return run;
}

async function exportTo(run: string, out: string, format: string, extra: string[] = []) {
  const result = await runCli([
    'export',
    '--model',
    run,
    '--out',
    out,
    '--format',
    format,
    '--name',
    'm',
    '--json',
    ...extra,
  ]);
  if (result.code !== 0) throw new Error(errorText(result));
}

/** Starts `rwseg export --force`, waits until it pauses at `step`, kills it with SIGKILL. */
async function killedExport(run: string, out: string, format: string, step: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [CLI_BIN, 'export', '--model', run, '--out', out, '--format', format, '--name', 'm', '--force'],
    {
      cwd: REPO_ROOT,
      stdio: 'ignore',
      env: { ...process.env, RWSEG_TEST_EXPORT_PAUSE: step },
    },
  );
  const exited = new Promise((r) => child.on('exit', r));
  const marker = path.join(run, `test-export-paused-${step}`);
  const deadline = Date.now() + 120_000;
  while (!existsSync(marker) && child.exitCode === null && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const alive = child.exitCode === null;
  child.kill('SIGKILL');
  await exited;
  if (!alive || !existsSync(marker)) throw new Error(`the export did not reach step ${step}`);
}

/** What the server answers for model `name` on a fixed input, and the model file it loaded. */
async function served(
  repository: string,
  name: string,
): Promise<{ ready: boolean; reason?: string; output?: number[] }> {
  const server = await createServer({
    models: repository,
    port: 0,
    providers: ['cpu'],
    defaultMetrics: false,
    logStream: new Writable({ write: (_c, _e, done) => done() }),
  });
  const url = await server.listen();
  try {
    const ready = (await (await fetch(`${url}/v2/models/${name}/ready`)).json()) as { ready: boolean; reason?: string };
    if (!ready.ready) return ready;
    const meta = (await (await fetch(`${url}/v2/models/${name}`)).json()) as { inputs: { name: string }[] };
    const data = Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i));
    const res = await fetch(`${url}/v2/models/${name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: meta.inputs[0]!.name, shape: [1, 16, 16, 1], datatype: 'FP32', data }] }),
    });
    const body = (await res.json()) as { outputs: { data: number[] }[] };
    return { ready: true, output: body.outputs[0]!.data };
  } finally {
    await server.close();
  }
}

/** onnxruntime on the file directly: the reference the server's answer must equal. */
async function direct(file: string): Promise<number[]> {
  const session = await ort.InferenceSession.create(file);
  const data = Float32Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i));
  const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [1, 16, 16, 1]) });
  const result = Array.from(out[session.outputNames[0]!]!.data as Float32Array);
  await session.release();
  return result;
}

const close = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);

for (const format of ['onnx', 'triton'] as const) {
  test.serial(
    `${format}: a kill -9 at any step of an export leaves the old model or the new one, served correctly`,
    async (t) => {
      const [oldRun, newRun] = [await fakeRun(1), await fakeRun(2)];
      const oldRef = temp('rwseg-kill-old-');
      const newRef = temp('rwseg-kill-new-');
      await exportTo(oldRun, oldRef, format);
      await exportTo(newRun, newRef, format);
      const onnxOf = (dir: string) =>
        format === 'onnx'
          ? path.join(dir, 'model.onnx')
          : path.join(
              dir,
              'm',
              String(
                Math.max(
                  ...readdirSync(path.join(dir, 'm'))
                    .filter((v) => /^\d+$/.test(v))
                    .map(Number),
                ),
              ),
              'model.onnx',
            );
      const expected = { old: await direct(onnxOf(oldRef)), new: await direct(onnxOf(newRef)) };
      const shas = { old: sha(onnxOf(oldRef)), new: sha(onnxOf(newRef)) };
      t.false(close(expected.old, expected.new), 'the two models answer differently');
      // The export target without --force is refused: it already holds a model.
      const refused = await runCli(['export', '--model', newRun, '--out', oldRef, '--format', format, '--name', 'm']);
      t.is(refused.code, 2);
      t.regex(errorText(refused), /already holds a model .*pass --force to replace it/);

      const want: Record<string, 'old' | 'new'> = { staged: 'old', 'model-renamed': 'new', 'metadata-renamed': 'new' };
      for (const step of COMMIT_STEPS) {
        const target = temp('rwseg-kill-target-');
        cpSync(oldRef, target, { recursive: true });
        await killedExport(newRun, target, format, step);
        const name = format === 'onnx' ? path.basename(target) : 'm';
        const answer = await served(target, name);
        t.true(answer.ready, `${step}: ${answer.reason}`);
        const inPlace = sha(onnxOf(target));
        const which = inPlace === shas.new ? 'new' : inPlace === shas.old ? 'old' : 'neither';
        t.is(which, want[step], `${step}: the model in place`);
        t.true(close(answer.output!, expected[want[step]!]), `${step}: the server answers as the ${want[step]} model`);
        if (step === 'model-renamed') {
          // A new export after the kill completes over the leftovers and leaves no staging folder behind.
          await exportTo(newRun, target, format, ['--force']);
          t.true(close((await served(target, name)).output!, expected.new));
          const leftovers = readdirSync(format === 'onnx' ? target : path.join(target, 'm')).filter((f) =>
            f.startsWith('.'),
          );
          t.deepEqual(leftovers, []);
        }
      }
    },
  );
}
