/**
 * `rwseg sweep collect`: reads every task's run folder of a sweep plan, says which are done, missing, running,
 * stopped or failed, and builds the comparison table (comparison.ts) from the finished ones. Each run carries its
 * seed and fold, so the validation cases of all folds pool per loss (a case validates in one fold only, so its id
 * is unique per seed and fold).
 *
 * A run's record (config.json, summary.json, task.json, history.jsonl: a few tens of KB) is all a comparison
 * needs. `records` copies the done runs' records into a folder of the plan's layout, without models or
 * checkpoints, small enough to commit or to keep when a cluster's scratch space is purged; `runs` collects from
 * such a folder instead of the plan's outDir.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FILES } from '../artifact/run-folder.js';
import { RwsegError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import type { ValidationResult } from '../training/validation.js';
import {
  compareLosses,
  pairedTests,
  writeComparison,
  type ComparedRun,
  type LossComparison,
  type PairedComparison,
} from './comparison.js';
import { formatDuration } from '../training/progress.js';
import { textTable, type SweepPlan } from './sweep-plan.js';
import { readTaskStatus, runIsFinished, TASK_STATUS_FILE, type TaskStatus } from './sweep-task.js';

export type CollectedState = 'done' | 'missing' | 'running' | 'stopped' | 'failed';

export interface CollectedTask {
  readonly index: number;
  readonly name: string;
  readonly loss: string;
  readonly seed: number;
  readonly fold?: number;
  readonly dir: string;
  readonly state: CollectedState;
  readonly attempts: number;
  readonly seconds?: number;
  readonly meanDice?: number;
  /** The failure's message, or where a stopped run will resume. */
  readonly note?: string;
}

export interface SweepCollection {
  readonly tasks: readonly CollectedTask[];
  readonly done: number;
  readonly complete: boolean;
  /** Written when every task is done, or with `partial` from the done ones. */
  readonly comparison?: readonly LossComparison[];
  /** Each loss against the sweep's reference, paired per validation case (comparison.md's second table). */
  readonly pairedTests?: PairedComparison;
  /** Why a partial comparison has no paired tests. */
  readonly pairedTestsSkipped?: string;
  readonly files?: readonly string[];
}

/** summary.json's validation of the kept model, NaN restored (JSON has none: the trainer writes null). */
function finalValidation(dir: string): ValidationResult | undefined {
  const file = path.join(dir, RUN_FILES.summary);
  try {
    const summary = JSON.parse(readFileSync(file, 'utf8'), (_k, v: unknown) => (v === null ? Number.NaN : v)) as {
      finalValidation?: ValidationResult;
    };
    return summary.finalValidation && typeof summary.finalValidation === 'object' ? summary.finalValidation : undefined;
  } catch (error) {
    throw new RwsegError('IO_ERROR', `cannot read ${file}: ${(error as Error).message}`, { file });
  }
}

// summary.json is the trainer's last write, so its presence means the run finished, whether or not its model was
// kept (a record copied without it).
function stateOf(dir: string, status: TaskStatus | undefined): CollectedState {
  if (existsSync(path.join(dir, RUN_FILES.summary))) return 'done';
  if (!status) return 'missing';
  return status.state === 'done' ? 'missing' : status.state;
}

/** The files of a run's record, in the order a reader wants them; the model and checkpoints are left out. */
const RUN_RECORD_FILES = [RUN_FILES.config, RUN_FILES.summary, TASK_STATUS_FILE, RUN_FILES.history] as const;

/** Copies a finished run's record into `to`; summary.json last, so an interrupted copy reads as not done. */
function keepRecord(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const file of RUN_RECORD_FILES) {
    const source = path.join(from, file);
    if (file === RUN_FILES.summary || !existsSync(source)) continue;
    copyFileSync(source, path.join(to, file));
  }
  writeFileAtomic(path.join(to, RUN_FILES.summary), readFileSync(path.join(from, RUN_FILES.summary)));
}

export function collectSweep(
  plan: Pick<SweepPlan, 'tasks' | 'outDir'> & { readonly pipeline?: unknown },
  options: {
    partial?: boolean;
    write?: boolean;
    /** Where the task folders are, in the plan's layout (default: the plan's outDir). */
    runs?: string;
    /** Copy each done run's record (RUN_RECORD_FILES) into this folder, in the plan's layout. */
    records?: string;
  } = {},
): SweepCollection {
  const runs: ComparedRun[] = [];
  const outDir = options.runs ? path.resolve(options.runs) : plan.outDir;
  const records = options.records ? path.resolve(options.records) : undefined;
  if (records && records === outDir)
    throw new RwsegError('INVALID_OPTIONS', `the records folder ${records} is the folder collected from`, {
      option: 'records',
    });
  const tasks = plan.tasks.map((planned): CollectedTask => {
    const t = options.runs ? { ...planned, dir: path.join(outDir, planned.name) } : planned;
    const status = readTaskStatus(t.dir);
    const state = stateOf(t.dir, status);
    const validation = state === 'done' ? finalValidation(t.dir) : undefined;
    if (state === 'done' && records) keepRecord(t.dir, path.join(records, t.name));
    if (validation)
      runs.push({
        lossName: t.loss,
        seed: t.seed,
        ...(t.fold !== undefined ? { fold: t.fold } : {}),
        result: { finalValidation: validation },
      } as ComparedRun);
    const note =
      state === 'failed'
        ? status?.error
        : state === 'stopped' && status?.stopped
          ? `resumes at epoch ${status.stopped.epoch}, step ${status.stopped.iteration}`
          : state === 'done' && !runIsFinished(t.dir)
            ? 'record only (no model/)'
            : undefined;
    return {
      index: t.index,
      name: t.name,
      loss: t.loss,
      seed: t.seed,
      ...(t.fold !== undefined ? { fold: t.fold } : {}),
      dir: t.dir,
      state,
      attempts: status?.attempts ?? 0,
      ...(status?.seconds !== undefined ? { seconds: status.seconds } : {}),
      ...(validation ? { meanDice: validation.meanDice } : {}),
      ...(note ? { note } : {}),
    };
  });
  const done = tasks.filter((t) => t.state === 'done').length;
  const complete = done === tasks.length;
  if (!complete && !options.partial) return { tasks, done, complete };
  const comparison = runs.length > 0 ? compareLosses(runs) : undefined;
  // The plan holds the pipeline as parsePipeline resolved it, so its reference (if any) is a loss of the sweep.
  const reference = (plan.pipeline as { sweep?: { reference?: string } } | undefined)?.sweep?.reference;
  // Partial results may have no done run of the reference yet: compare what is done, test nothing.
  const referenceDone = reference === undefined || runs.some((r) => r.lossName === reference);
  const tests = comparison && referenceDone ? pairedTests(runs, { reference }) : undefined;
  if (comparison && options.write !== false) writeComparison(outDir, comparison, tests);
  const files =
    comparison && options.write !== false
      ? ['comparison.md', 'comparison.csv', ...(tests ? ['comparison-tests.csv'] : [])].map((f) => path.join(outDir, f))
      : undefined;
  return {
    tasks,
    done,
    complete,
    ...(comparison ? { comparison } : {}),
    ...(tests ? { pairedTests: tests } : {}),
    ...(comparison && !referenceDone
      ? { pairedTestsSkipped: `no paired tests: no run of the reference loss '${reference}' is done yet` }
      : {}),
    ...(files ? { files } : {}),
  };
}

export function collectionTable(collection: SweepCollection): string {
  const rows = collection.tasks.map((t) => [
    String(t.index),
    t.name,
    t.state,
    String(t.attempts),
    t.seconds !== undefined ? formatDuration(t.seconds) : '-',
    t.meanDice !== undefined && Number.isFinite(t.meanDice) ? t.meanDice.toFixed(3) : '-',
    t.note ?? '',
  ]);
  return textTable(['task', 'run', 'state', 'attempts', 'time', 'Dice', 'note'], rows);
}

/** "k of N runs done", and an ETA for the rest from the finished runs' mean training time (one at a time). */
export function collectionProgress(collection: SweepCollection): string {
  const total = collection.tasks.length;
  const finished = collection.tasks.filter((t) => t.state === 'done' && t.seconds !== undefined && t.seconds > 0);
  const left = total - collection.done;
  const mean = finished.length > 0 ? finished.reduce((a, t) => a + t.seconds!, 0) / finished.length : undefined;
  const eta =
    left > 0 && mean !== undefined
      ? `; ETA ${formatDuration(mean * left)} for the other ${left} one after another (${formatDuration(mean)} per run)`
      : '';
  return `${collection.done} of ${total} runs done${eta}`;
}
