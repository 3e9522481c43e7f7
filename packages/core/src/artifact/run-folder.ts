/**
 * The training run folder, typed: config.json (the resolved pipeline, itself a pipeline that reproduces the run),
 * summary.json (schema rwseg-run-summary/2), history.jsonl (one line per completed epoch), checkpoints/ and model/
 * (TF.js model + its artifact, rwseg.json). Epochs are 1-based in every file: epoch 1 is the first completed one.
 *
 * Also the run-folder policy the pipeline applies before training: a folder that holds a run is continued only
 * with --resume (with the same settings) and overwritten only with --force.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RwsegError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parsePipeline, type PipelineConfig } from '../pipeline/schema.js';
import { parseWithSchema, readJsonFile, readModelArtifact } from './read.js';
import type { ModelArtifact } from './schema.js';

export const RUN_FILES = {
  config: 'config.json',
  summary: 'summary.json',
  history: 'history.jsonl',
  checkpoints: 'checkpoints',
  model: 'model',
} as const;
export const RUN_SUMMARY_SCHEMA = 'rwseg-run-summary/2';

const metric = z.number().nullable();
const classSummary = z.looseObject({ classIndex: z.number().int(), dice: z.looseObject({ mean: metric }) });
const validationSchema = z.looseObject({ meanDice: metric, classes: z.array(classSummary) });

export const runSummarySchema = z
  .object({
    schema: z.literal(RUN_SUMMARY_SCHEMA),
    outDir: z.string(),
    /** Epochs the run is configured for. */
    epochs: z.number().int().positive(),
    /** Epochs already completed when this invocation started (0 unless resumed). */
    startEpoch: z.number().int().nonnegative(),
    epochsRun: z.number().int().nonnegative(),
    /** 1-based epoch whose weights model/ holds. */
    modelEpoch: z.number().int().positive().nullable(),
    /** 1-based epoch of the best validation mean Dice, and that Dice. */
    bestEpoch: z.number().int().positive().nullable(),
    bestDice: metric,
    /** Validation of the weights model/ holds (the best epoch's when validated). */
    finalValidation: validationSchema.nullable(),
    /** Validation of the last epoch's weights, when it differs from model/'s. */
    lastEpochValidation: validationSchema.nullable().optional(),
    stability: z.looseObject({}).nullable(),
  })
  .loose();

export type RunSummary = z.output<typeof runSummarySchema>;

export const historyEntrySchema = z.looseObject({
  epoch: z.number().int().positive(),
  loss: z.number().nullable(),
  lr: z.number(),
  gradNorm: z.number().nullable(),
  seconds: z.number(),
  /** The training loss on the validation cases; absent on epochs without validation and in older runs. */
  validationLoss: metric.optional(),
  validation: z.looseObject({ meanDice: metric, classes: z.array(classSummary) }).optional(),
});

/** One history.jsonl line as the trainer writes it (training/trainer.ts HistoryEntry). */
export interface RunHistoryEntry {
  /** 1-based. */
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  readonly seconds: number;
  /** The training loss on the validation cases (training/validation-loss.ts); absent in runs before it. */
  readonly validationLoss?: number;
  readonly validation?: { meanDice: number; classes: readonly { classIndex: number; [key: string]: unknown }[] };
}

export interface RunFolder {
  readonly dir: string;
  readonly config: PipelineConfig;
  readonly summary: RunSummary | undefined;
  readonly history: readonly RunHistoryEntry[];
  readonly modelDir: string;
  /** The trained model's artifact; undefined while training has not finished (no model/ yet). */
  readonly artifact: ModelArtifact | undefined;
}

/** `<run>/config.json`, validated as the pipeline it is. */
export function readRunConfig(dir: string): PipelineConfig {
  const file = path.join(dir, RUN_FILES.config);
  if (!existsSync(file))
    throw new RwsegError(
      'IO_ERROR',
      `${file} does not exist: ${dir} is not a training run folder (rwseg train and rwseg pipeline run write it)`,
      { file },
    );
  return parsePipeline(readJsonFile(file), file);
}

/** `<run>/summary.json`; undefined while training has not finished. rwseg 0.1 summaries (0-based) are migrated. */
export function readRunSummary(dir: string, options: { logger?: Pick<Logger, 'warn'> } = {}): RunSummary | undefined {
  const file = path.join(dir, RUN_FILES.summary);
  if (!existsSync(file)) return undefined;
  const raw = readJsonFile(file) as Record<string, unknown>;
  if (raw && typeof raw === 'object' && raw.schema === undefined) {
    options.logger?.warn(`${file}: an rwseg 0.1 summary (0-based epochs), read with migration`);
    const best = typeof raw.bestEpoch === 'number' ? raw.bestEpoch + 1 : null;
    const epochsRun = Number(raw.epochsRun ?? 0);
    const startEpoch = Number(raw.startEpoch ?? 0);
    return parseWithSchema(
      runSummarySchema,
      {
        ...raw,
        schema: RUN_SUMMARY_SCHEMA,
        outDir: String(raw.outDir ?? dir),
        epochs: Math.max(1, startEpoch + epochsRun),
        startEpoch,
        epochsRun,
        modelEpoch: best ?? (startEpoch + epochsRun || null),
        bestEpoch: best,
        bestDice: raw.bestDice ?? null,
        finalValidation: raw.finalValidation ?? null,
        stability: raw.stability ?? null,
      },
      file,
    );
  }
  return parseWithSchema(runSummarySchema, raw, file);
}

/**
 * history.jsonl, one entry per completed epoch (null -> NaN: JSON has no NaN). A line cut by a kill is skipped.
 * rwseg 0.1 numbered epochs from 0: a file holding epoch 0 is renumbered.
 */
export function readRunHistory(fileOrDir: string): RunHistoryEntry[] {
  const file = fileOrDir.endsWith('.jsonl') ? fileOrDir : path.join(fileOrDir, RUN_FILES.history);
  if (!existsSync(file)) return [];
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line, (_k, v) => (v === null ? Number.NaN : v)) as RunHistoryEntry];
      } catch {
        return [];
      }
    })
    .filter((e) => typeof e === 'object' && e !== null && Number.isInteger(e.epoch));
  return entries.some((e) => e.epoch === 0) ? entries.map((e) => ({ ...e, epoch: e.epoch + 1 })) : entries;
}

/** A whole run folder, typed. */
export function readRunFolder(dir: string, options: { logger?: Pick<Logger, 'warn'> } = {}): RunFolder {
  const abs = path.resolve(dir);
  const config = readRunConfig(abs);
  const modelDir = path.join(abs, RUN_FILES.model);
  const artifact = existsSync(path.join(modelDir, 'model.json')) ? readModelArtifact(modelDir, options) : undefined;
  return { dir: abs, config, summary: readRunSummary(abs, options), history: readRunHistory(abs), modelDir, artifact };
}

/**
 * A run folder or its model/ subfolder -> both paths. Errors say which is missing (a run still training, or a
 * folder that is not a run).
 */
export function resolveRunFolder(dir: string): { runDir: string; modelDir: string } {
  const abs = path.resolve(dir);
  if (!existsSync(abs))
    throw new RwsegError(
      'IO_ERROR',
      `model folder '${dir}' does not exist (pass a run folder, e.g. runs/quickstart, or its model/ subfolder)`,
      { file: dir },
    );
  if (existsSync(path.join(abs, 'model.json'))) return { runDir: path.dirname(abs), modelDir: abs };
  if (existsSync(path.join(abs, RUN_FILES.model, 'model.json')))
    return { runDir: abs, modelDir: path.join(abs, RUN_FILES.model) };
  if (existsSync(path.join(abs, RUN_FILES.config)) || existsSync(path.join(abs, RUN_FILES.history))) {
    throw new RwsegError(
      'IO_ERROR',
      `'${dir}' is a run folder without a trained model (no model/model.json): training has not finished; resume ` +
        `it or pass another run`,
      { file: dir },
    );
  }
  throw new RwsegError(
    'INVALID_INPUT',
    `'${dir}' is not a run folder: it holds neither model.json nor model/model.json (rwseg train and rwseg ` +
      `pipeline run write <run>/model)`,
    { file: dir },
  );
}

/** The settings a resumed run must share with the run it continues (training length may change). */
const RESUME_KEYS = ['dataset', 'preprocessing', 'model', 'loss'] as const;

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** Settings of `next` that differ from the run's `previous`, as `section (was X, now Y)` phrases. */
export function resumeDifferences(previous: PipelineConfig, next: PipelineConfig): string[] {
  const short = (v: unknown) => {
    const s = stable(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  };
  return RESUME_KEYS.filter((k) => stable(previous[k]) !== stable(next[k])).map(
    (k) => `${k} (was ${short(previous[k])}, now ${short(next[k])})`,
  );
}

export function runFolderHoldsRun(dir: string): boolean {
  const checkpoints = path.join(dir, RUN_FILES.checkpoints);
  const anyCheckpoint = existsSync(checkpoints) && readdirSync(checkpoints).some((f) => f.endsWith('.ckpt'));
  return (
    anyCheckpoint ||
    [RUN_FILES.config, RUN_FILES.history, RUN_FILES.summary, path.join(RUN_FILES.model, 'model.json')].some((f) =>
      existsSync(path.join(dir, f)),
    )
  );
}

export interface RunFolderPolicy {
  /** --resume (true: the newest checkpoint) or --resume-from FILE. */
  readonly resume?: boolean | string;
  /** --force: resume despite differing settings or a missing checkpoint (then start over), or overwrite a run. */
  readonly force?: boolean;
  readonly logger?: Pick<Logger, 'warn'>;
}

/**
 * Decides, before anything is trained, what happens to `dir`: 'resume' or 'fresh'. Stops with INVALID_OPTIONS
 * (exit 2) when --resume has nothing to resume or the settings differ, and when a fresh run would overwrite one;
 * --force overrides both (starting over removes the old run's checkpoints, history, summary and model).
 */
export function prepareRunFolder(dir: string, config: PipelineConfig, policy: RunFolderPolicy): 'resume' | 'fresh' {
  const holds = runFolderHoldsRun(dir);
  const checkpointDir = path.join(dir, RUN_FILES.checkpoints);
  const hasCheckpoint =
    existsSync(checkpointDir) && readdirSync(checkpointDir).some((f) => /^epoch-\d+\.ckpt$/.test(f));
  if (policy.resume) {
    if (typeof policy.resume === 'string' && !existsSync(policy.resume)) {
      throw new RwsegError('INVALID_OPTIONS', `--resume-from ${policy.resume}: no such checkpoint file`, {
        option: 'resume-from',
        file: policy.resume,
      });
    }
    if (policy.resume === true && !hasCheckpoint) {
      if (!policy.force) {
        throw new RwsegError(
          'INVALID_OPTIONS',
          `--resume: ${dir} holds no checkpoint to resume (checkpoints/epoch-NNNN.ckpt); drop --resume to start a ` +
            `new run there, or pass --force to start one anyway`,
          { option: 'resume', dir },
        );
      }
      policy.logger?.warn(`--resume --force: ${dir} holds no checkpoint; starting a new run`);
      if (holds) clearRun(dir);
      return 'fresh';
    }
    if (existsSync(path.join(dir, RUN_FILES.config))) {
      // Through JSON and the schema, as config.json went: defaults filled the same way on both sides.
      const differences = resumeDifferences(
        readRunConfig(dir),
        parsePipeline(JSON.parse(JSON.stringify(config)), 'the new settings'),
      );
      if (differences.length > 0) {
        if (!policy.force) {
          throw new RwsegError(
            'INVALID_OPTIONS',
            `--resume: the settings differ from the run in ${path.join(dir, RUN_FILES.config)}: ` +
              `${differences.join('; ')}. Use the run's settings, another --out, or --force to resume anyway`,
            { option: 'resume', differences },
          );
        }
        policy.logger?.warn(`--resume --force: resuming ${dir} with different settings: ${differences.join('; ')}`);
      }
    }
    return 'resume';
  }
  if (holds) {
    if (!policy.force) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `${dir} already holds a training run: pass --resume to continue it, --force to start over (its checkpoints ` +
          `and model are removed), or another --out`,
        { option: 'out', dir },
      );
    }
    policy.logger?.warn(
      `--force: starting over in ${dir}; the previous run's checkpoints, history, summary and model are removed`,
    );
    clearRun(dir);
  }
  return 'fresh';
}

function clearRun(dir: string): void {
  for (const f of [RUN_FILES.checkpoints, RUN_FILES.history, RUN_FILES.summary, RUN_FILES.model])
    rmSync(path.join(dir, f), { recursive: true, force: true });
}
