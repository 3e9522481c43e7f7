/**
 * `rwseg sweep collect`: reads every task's run folder of a sweep plan, says which are done, missing, running,
 * stopped or failed, and builds the comparison table (comparison.ts) from the finished ones. Each run carries its
 * seed and fold, so the validation cases of all folds pool per loss (a case validates in one fold only, so its id
 * is unique per seed and fold).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FILES } from '../artifact/run-folder.js';
import { RwsegError } from '../errors.js';
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
import { readTaskStatus, runIsFinished, type TaskStatus } from './sweep-task.js';

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

function stateOf(dir: string, status: TaskStatus | undefined): CollectedState {
  if (runIsFinished(dir)) return 'done';
  if (!status) return 'missing';
  return status.state === 'done' ? 'missing' : status.state;
}

export function collectSweep(
  plan: Pick<SweepPlan, 'tasks' | 'outDir'> & { readonly pipeline?: unknown },
  options: { partial?: boolean; write?: boolean } = {},
): SweepCollection {
  const runs: ComparedRun[] = [];
  const tasks = plan.tasks.map((t): CollectedTask => {
    const status = readTaskStatus(t.dir);
    const state = stateOf(t.dir, status);
    const validation = state === 'done' ? finalValidation(t.dir) : undefined;
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
  const tests = comparison ? pairedTests(runs, { reference }) : undefined;
  if (comparison && options.write !== false) writeComparison(plan.outDir, comparison, tests);
  const files =
    comparison && options.write !== false
      ? ['comparison.md', 'comparison.csv', 'comparison-tests.csv'].map((f) => path.join(plan.outDir, f))
      : undefined;
  return {
    tasks,
    done,
    complete,
    ...(comparison ? { comparison } : {}),
    ...(tests ? { pairedTests: tests } : {}),
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
