/**
 * The run folder, typed: config.json as the pipeline it is, summary.json (older ones migrated), history.jsonl
 * (1-based epochs, older 0-based files renumbered), and the policy for --resume / --force.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  isRwsegError,
  parsePipeline,
  prepareRunFolder,
  readRunConfig,
  readRunHistory,
  readRunSummary,
  resolveRunFolder,
  type PipelineConfig,
} from '../../src/index.js';

const temp = () => mkdtempSync(path.join(tmpdir(), 'rwseg-run-'));

const raw = {
  name: 'r',
  dataset: { kind: 'synthetic', shape: [32, 32] },
  preprocessing: { patch: [32, 32] },
  loss: 'dice',
  training: { epochs: 3, iterationsPerEpoch: 2 },
};
const config = (overrides: Record<string, unknown> = {}): PipelineConfig =>
  parsePipeline({ ...raw, ...overrides }, 'test');

function runWithCheckpoint(): string {
  const dir = temp();
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config()));
  mkdirSync(path.join(dir, 'checkpoints'));
  writeFileSync(path.join(dir, 'checkpoints', 'epoch-0001.ckpt'), 'x');
  writeFileSync(path.join(dir, 'history.jsonl'), '{"epoch":1,"loss":0.5,"lr":0.01,"gradNorm":1,"seconds":1}\n');
  return dir;
}

test('config.json is read as the pipeline it is; a bad field is named with the file', (t) => {
  const dir = temp();
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ ...config(), training: { epochs: -1, iterationsPerEpoch: 2 } }),
  );
  t.regex(t.throws(() => readRunConfig(dir))!.message, /config\.json: training\.epochs/);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config()));
  t.is(readRunConfig(dir).loss, 'dice');
  t.regex(
    t.throws(() => readRunConfig(temp()))!.message,
    /config\.json does not exist: .* is not a training run folder/,
  );
});

test('history is 1-based; an rwseg 0.1 history (epoch 0 first) is renumbered; a line cut by a kill is skipped', (t) => {
  const dir = temp();
  writeFileSync(
    path.join(dir, 'history.jsonl'),
    '{"epoch":0,"loss":1,"lr":0.01,"gradNorm":null,"seconds":1}\n{"epoch":1,"loss":0.5,"lr":0.01,"gradNorm":2,"seconds":1}\n{"epoch":2,"lo',
  );
  const history = readRunHistory(dir);
  t.deepEqual(
    history.map((e) => e.epoch),
    [1, 2],
  );
  t.true(Number.isNaN(history[0]!.gradNorm), 'null is NaN');
  writeFileSync(path.join(dir, 'history.jsonl'), '{"epoch":1,"loss":1,"lr":0.01,"gradNorm":1,"seconds":1}\n');
  t.deepEqual(
    readRunHistory(dir).map((e) => e.epoch),
    [1],
  );
});

test('summary.json: current schema validated, an rwseg 0.1 summary migrated to 1-based epochs', (t) => {
  const dir = temp();
  t.is(readRunSummary(dir), undefined);
  writeFileSync(
    path.join(dir, 'summary.json'),
    JSON.stringify({
      outDir: dir,
      startEpoch: 0,
      epochsRun: 4,
      bestEpoch: 2,
      bestDice: 0.7,
      finalValidation: { meanDice: 0.6, classes: [] },
    }),
  );
  const lines: string[] = [];
  const s = readRunSummary(dir, { logger: { warn: (m) => lines.push(m) } })!;
  t.is(s.bestEpoch, 3);
  t.is(s.modelEpoch, 3);
  t.is(s.epochs, 4);
  t.regex(lines[0]!, /an rwseg 0\.1 summary/);
  writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ ...s, bestEpoch: 0 }));
  t.regex(t.throws(() => readRunSummary(dir))!.message, /summary\.json: field 'bestEpoch'/);
});

test('a run folder or its model/ subfolder resolve to both; a run still training and a stranger folder are told apart', (t) => {
  const run = runWithCheckpoint();
  t.regex(
    t.throws(() => resolveRunFolder(run))!.message,
    /a run folder without a trained model .* training has not finished/,
  );
  mkdirSync(path.join(run, 'model'));
  writeFileSync(path.join(run, 'model', 'model.json'), '{}');
  t.deepEqual(resolveRunFolder(path.join(run, 'model')), { runDir: run, modelDir: path.join(run, 'model') });
  t.deepEqual(resolveRunFolder(run), { runDir: run, modelDir: path.join(run, 'model') });
  t.regex(t.throws(() => resolveRunFolder(temp()))!.message, /is not a run folder/);
});

test('--resume with nothing to resume stops (exit 2) unless --force, which starts a new run', (t) => {
  const dir = temp();
  const error = t.throws(() => prepareRunFolder(dir, config(), { resume: true }));
  t.true(isRwsegError(error, 'INVALID_OPTIONS'));
  t.regex(error!.message, /--resume: .* holds no checkpoint to resume .*drop --resume .* or pass --force/);
  t.is(prepareRunFolder(dir, config(), { resume: true, force: true }), 'fresh');
  t.regex(
    t.throws(() => prepareRunFolder(dir, config(), { resume: path.join(dir, 'nope.ckpt') }))!.message,
    /--resume-from .*nope\.ckpt: no such checkpoint file/,
  );
});

test('--resume with other settings (patch, model, loss, data) names them and stops unless --force; epochs may change', (t) => {
  const dir = runWithCheckpoint();
  t.is(prepareRunFolder(dir, config({ training: { epochs: 9, iterationsPerEpoch: 2 } }), { resume: true }), 'resume');
  for (const [overrides, field] of [
    [{ loss: 'cross-entropy' }, /loss \(was "dice", now "cross-entropy"\)/],
    [{ preprocessing: { patch: [16, 16] } }, /preprocessing \(was/],
    [{ model: { depth: 3 } }, /model \(was/],
    [{ dataset: { kind: 'synthetic', shape: [48, 48] } }, /dataset \(was/],
  ] as const) {
    const error = t.throws(() => prepareRunFolder(dir, config(overrides), { resume: true }));
    t.true(isRwsegError(error, 'INVALID_OPTIONS'));
    t.regex(error!.message, field);
    t.regex(error!.message, /--force to resume anyway/);
  }
  const lines: string[] = [];
  t.is(
    prepareRunFolder(dir, config({ loss: 'cross-entropy' }), {
      resume: true,
      force: true,
      logger: { warn: (m) => lines.push(m) },
    }),
    'resume',
  );
  t.regex(lines[0]!, /resuming .* with different settings: loss/);
});

test('a new run in a folder that holds one needs --force, which removes the old checkpoints, history and model', (t) => {
  const dir = runWithCheckpoint();
  const error = t.throws(() => prepareRunFolder(dir, config(), {}));
  t.regex(error!.message, /already holds a training run: pass --resume to continue it, --force to start over/);
  t.is(prepareRunFolder(dir, config(), { force: true }), 'fresh');
  t.false(existsSync(path.join(dir, 'checkpoints')));
  t.false(existsSync(path.join(dir, 'history.jsonl')));
  t.is(prepareRunFolder(temp(), config(), {}), 'fresh');
});
