/**
 * A sweep as numbered tasks for a cluster engine (Slurm array, Kubernetes Indexed Job, Ray): `rwseg sweep plan`
 * writes <out>/sweep-plan.json, each array element runs `rwseg sweep run-task N` (sweep-task.ts), and `rwseg sweep
 * collect` (sweep-collect.ts) merges the finished runs. One training per task, as nnU-Net runs folds in parallel.
 *
 * The plan holds the whole resolved pipeline (overrides applied, data paths made absolute, so a node with another
 * working directory reads the same files) and, per task, its index, loss, seed, fold, run folder and the run's own
 * resolved config. Tasks are numbered as `pipeline run` orders its runs: losses x seeds x folds, fold fastest.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RwsegError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { parsePipeline, type PipelineConfig } from './schema.js';
import { pipelineOutDir, planPipelineRuns, plannedRunConfig } from './run.js';

export const SWEEP_PLAN_SCHEMA = 'rwseg-sweep-plan/1';
export const SWEEP_PLAN_FILE = 'sweep-plan.json';

export interface SweepTask {
  readonly index: number;
  /** `<loss>/seed-<n>[/fold-<k>]`, also the run folder relative to the plan's outDir. */
  readonly name: string;
  readonly loss: string;
  readonly seed: number;
  readonly fold?: number;
  readonly folds?: number;
  /** The run folder (absolute). */
  readonly dir: string;
  /** The run's resolved pipeline (what its config.json will hold, less the backend's facts and case ids). */
  readonly config: unknown;
}

export interface SweepPlan {
  readonly schema: typeof SWEEP_PLAN_SCHEMA;
  readonly name: string;
  readonly createdAt: string;
  readonly configFile?: string;
  /** The --set overrides the pipeline was resolved with (already applied to `pipeline`). */
  readonly set: readonly string[];
  /** Plugin specifiers run-task loads (--plugin at plan time). */
  readonly plugins: readonly string[];
  readonly outDir: string;
  /** The resolved pipeline, sweep included: run-task runs task N of it exactly as `pipeline run` would. */
  readonly pipeline: unknown;
  readonly tasks: readonly SweepTask[];
}

export interface PlanSweepOptions {
  readonly configFile?: string;
  readonly set?: readonly string[];
  readonly out?: string;
  readonly plugins?: readonly string[];
}

/** Dataset paths resolved against this working directory (`images`/`labels` stay relative to `path` when it is set). */
function absoluteDataPaths(config: PipelineConfig): PipelineConfig {
  const d = config.dataset;
  if (d.kind === 'msd') return { ...config, dataset: { ...d, root: path.resolve(d.root) } };
  if (d.kind === 'folder') {
    if (d.path) return { ...config, dataset: { ...d, path: path.resolve(d.path) } };
    return { ...config, dataset: { ...d, images: path.resolve(d.images!), labels: path.resolve(d.labels!) } };
  }
  return config;
}

export function planSweep(config: PipelineConfig, options: PlanSweepOptions = {}): SweepPlan {
  const outDir = pipelineOutDir(config, options.out);
  const pipeline = {
    ...absoluteDataPaths(config),
    output: outDir,
    ...(options.configFile ? { configFile: path.resolve(options.configFile) } : {}),
  };
  const folds = config.split?.folds;
  const tasks = planPipelineRuns(pipeline, outDir).map((run) => ({
    index: run.index,
    name: run.name,
    loss: run.lossName,
    seed: run.seed,
    ...(run.fold !== undefined ? { fold: run.fold, folds } : {}),
    dir: run.dir,
    config: plannedRunConfig(pipeline, run),
  }));
  return {
    schema: SWEEP_PLAN_SCHEMA,
    name: config.name,
    createdAt: new Date().toISOString(),
    ...(options.configFile ? { configFile: path.resolve(options.configFile) } : {}),
    set: [...(options.set ?? [])],
    plugins: [...(options.plugins ?? [])],
    outDir,
    pipeline,
    tasks,
  };
}

export function writeSweepPlan(plan: SweepPlan, file = path.join(plan.outDir, SWEEP_PLAN_FILE)): string {
  writeFileAtomic(file, JSON.stringify(plan, null, 2) + '\n');
  return file;
}

/** Reads and checks a plan file; `pipeline` is the validated pipeline it carries. */
export function readSweepPlan(file: string): SweepPlan & { config: PipelineConfig; file: string } {
  let raw: Partial<SweepPlan>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<SweepPlan>;
  } catch (error) {
    const hint =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (write one with rwseg sweep plan PIPELINE.yaml)' : '';
    throw new RwsegError('IO_ERROR', `cannot read sweep plan ${file}: ${(error as Error).message}${hint}`, { file });
  }
  if (raw?.schema !== SWEEP_PLAN_SCHEMA || !Array.isArray(raw.tasks) || typeof raw.outDir !== 'string') {
    throw new RwsegError(
      'INVALID_INPUT',
      `${file} is not a sweep plan (schema ${SWEEP_PLAN_SCHEMA}, written by rwseg sweep plan)`,
      { file },
    );
  }
  const config = parsePipeline(raw.pipeline, `${file}: pipeline`);
  return { ...(raw as SweepPlan), config, file: path.resolve(file) };
}

/** The plan as a text table, one task per line. */
export function sweepPlanTable(plan: Pick<SweepPlan, 'tasks'>): string {
  const rows = plan.tasks.map((t) => [
    String(t.index),
    t.loss,
    String(t.seed),
    t.fold === undefined ? '-' : `${t.fold}/${t.folds}`,
    t.dir,
  ]);
  return textTable(['task', 'loss', 'seed', 'fold', 'run folder'], rows);
}

/** Left-aligned columns separated by two spaces. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
