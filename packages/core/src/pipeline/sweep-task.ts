/**
 * One task of a sweep plan (sweep-plan.ts), as an array job element runs it: exactly the run `pipeline run` would
 * train at that position (run.ts runPlannedTask), in its own folder, with a status file beside it.
 *
 * Re-running a task is always safe, which is what requeueing needs: a finished run (summary.json and model/) is
 * left alone; a run with a checkpoint (an epoch's, or stopped.ckpt from a stop request) resumes from it; a folder
 * without one (killed before its first checkpoint) starts over.
 *
 * <run>/task.json (written atomically at each change): state running | done | failed | stopped, attempts, host,
 * pid, the engine's job ids, startedAt (this attempt), finishedAt, seconds (training time over all attempts).
 * A task killed outright (SIGKILL, node lost) stays `running` until the engine runs it again.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { RUN_FILES } from '../artifact/run-folder.js';
import { RwsegError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { runPlannedTask, type PipelineRun, type RunPipelineOptions } from './run.js';
import type { readSweepPlan, SweepTask } from './sweep-plan.js';

export const TASK_STATUS_FILE = 'task.json';
export const TASK_STATUS_SCHEMA = 'rwseg-sweep-task/1';

export type TaskState = 'running' | 'done' | 'failed' | 'stopped';

export interface TaskStatus {
  readonly schema: typeof TASK_STATUS_SCHEMA;
  readonly index: number;
  readonly name: string;
  readonly state: TaskState;
  /** Invocations of run-task that trained (a finished task's re-runs do not count). */
  readonly attempts: number;
  readonly host: string;
  readonly pid: number;
  /** SLURM_JOB_ID / SLURM_ARRAY_JOB_ID, JOB_COMPLETION_INDEX and the pod's name, Ray's job id, when set. */
  readonly engine: Record<string, string>;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** Seconds spent training, summed over attempts (the finished ones' give collect its ETA). */
  readonly seconds: number;
  readonly error?: string;
  readonly stopped?: { epoch: number; iteration: number; checkpoint: string; reason?: string };
}

const ENGINE_VARIABLES = [
  'SLURM_JOB_ID',
  'SLURM_ARRAY_JOB_ID',
  'SLURM_ARRAY_TASK_ID',
  'SLURM_RESTART_COUNT',
  'JOB_COMPLETION_INDEX',
  'HOSTNAME',
  'RAY_JOB_ID',
];

/** A run is finished when the trainer wrote its summary and its model (the last two things it writes). */
export function runIsFinished(dir: string): boolean {
  return existsSync(path.join(dir, RUN_FILES.summary)) && existsSync(path.join(dir, RUN_FILES.model, 'model.json'));
}

export function readTaskStatus(dir: string): TaskStatus | undefined {
  const file = path.join(dir, TASK_STATUS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TaskStatus;
  } catch {
    // Written atomically, so only a hand edit can break it: treat as absent rather than fail the whole collect.
    return undefined;
  }
}

function hasCheckpoint(dir: string): boolean {
  const checkpoints = path.join(dir, RUN_FILES.checkpoints);
  return existsSync(checkpoints) && readdirSync(checkpoints).some((f) => /^(epoch-\d+|stopped)\.ckpt$/.test(f));
}

/** The task number run-task gets: its argument, else the engine's array index variable. */
export function taskIndexFromEnvironment(arg: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const [source, value] =
    arg !== undefined
      ? ['the task argument', arg]
      : env.SLURM_ARRAY_TASK_ID !== undefined
        ? ['SLURM_ARRAY_TASK_ID', env.SLURM_ARRAY_TASK_ID]
        : env.JOB_COMPLETION_INDEX !== undefined
          ? ['JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX]
          : [undefined, undefined];
  if (source === undefined) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      'no task number: pass N, or run inside a Slurm array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)',
      { option: 'task' },
    );
  }
  if (!/^\d+$/.test(value!.trim()))
    throw new RwsegError('INVALID_OPTIONS', `${source} '${value}' is not a task number (0, 1, ...)`, {
      option: 'task',
    });
  return Number(value);
}

export interface SweepTaskResult {
  readonly task: SweepTask;
  readonly state: TaskState;
  /** True when the run was already finished and nothing was trained. */
  readonly alreadyDone: boolean;
  readonly status: TaskStatus;
  readonly run?: PipelineRun;
}

export async function runSweepTask(
  plan: ReturnType<typeof readSweepPlan>,
  index: number,
  options: Omit<RunPipelineOptions, 'out' | 'resume' | 'force' | 'set'> = {},
): Promise<SweepTaskResult> {
  const task = plan.tasks[index];
  if (!Number.isInteger(index) || !task) {
    throw new RwsegError(
      'INVALID_OPTIONS',
      `task ${index} is out of range: ${plan.file} has ${plan.tasks.length} task(s), 0..${plan.tasks.length - 1}`,
      { option: 'task' },
    );
  }
  const previous = readTaskStatus(task.dir);
  const now = () => new Date().toISOString();
  const engine = Object.fromEntries(
    ENGINE_VARIABLES.flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : [])),
  );
  let status: TaskStatus = {
    schema: TASK_STATUS_SCHEMA,
    index,
    name: task.name,
    state: 'running',
    attempts: (previous?.attempts ?? 0) + 1,
    host: hostname(),
    pid: process.pid,
    engine,
    startedAt: now(),
    updatedAt: now(),
    seconds: previous?.seconds ?? 0,
  };
  const write = (next: Partial<TaskStatus>) => {
    status = { ...status, ...next, updatedAt: now() };
    writeFileAtomic(path.join(task.dir, TASK_STATUS_FILE), JSON.stringify(status, null, 2) + '\n');
  };
  if (runIsFinished(task.dir)) {
    // Exit at once: a requeued or repeated element of an array whose run already completed.
    if (previous?.state !== 'done')
      write({ ...previous, state: 'done', attempts: previous?.attempts ?? 0, finishedAt: now() });
    return { task, state: 'done', alreadyDone: true, status: readTaskStatus(task.dir) ?? status };
  }
  const resume = hasCheckpoint(task.dir);
  write({});
  const started = Date.now();
  const elapsed = () => (previous?.seconds ?? 0) + (Date.now() - started) / 1000;
  try {
    const { run } = await runPlannedTask(plan.config, index, {
      ...options,
      configFile: plan.configFile,
      out: plan.outDir,
      plugins: [...plan.plugins, ...(options.plugins ?? [])],
      // Requeued: continue the checkpoint; else a folder holding only a crashed start is started over.
      resume,
      force: !resume,
    });
    const stopped = run.result.stopped;
    write(
      stopped
        ? { state: 'stopped', stopped, seconds: elapsed() }
        : { state: 'done', stopped: undefined, finishedAt: now(), seconds: elapsed() },
    );
    return { task, state: status.state, alreadyDone: false, status, run };
  } catch (error) {
    write({ state: 'failed', error: (error as Error).message, seconds: elapsed(), finishedAt: now() });
    throw error;
  }
}
