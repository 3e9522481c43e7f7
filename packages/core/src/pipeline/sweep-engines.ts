/**
 * Job files for existing cluster engines, one task of a sweep plan per array element (sweep-plan.ts):
 * - Slurm: an sbatch array script. `--signal=B:USR1@S` makes Slurm signal the batch shell S seconds before the time
 *   limit; the shell asks rwseg to stop (TERM), rwseg checkpoints at its next step and exits, and the shell then
 *   requeues its own array element, which resumes (`--requeue` also requeues it on preemption/node loss).
 * - Kubernetes: an Indexed Job (batch/v1), JOB_COMPLETION_INDEX -> run-task, a PersistentVolumeClaim mounted at
 *   the runs folder; SIGTERM on eviction checkpoints within terminationGracePeriodSeconds and the retried pod resumes.
 * - Ray: a Ray Jobs entrypoint (Python) launching one `ray.remote(num_cpus=...)` task per index; a stopped or
 *   failed task is retried by Ray (max_retries) and resumes.
 * Nothing here submits anything: the user runs sbatch / kubectl apply / ray job submit.
 */
import path from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { RwsegError } from '../errors.js';
import type { SweepPlan } from './sweep-plan.js';

/** run-task's exit status after SIGUSR1 stopped it with a checkpoint (EX_TEMPFAIL: try again, it resumes). */
export const STOPPED_EXIT_CODE = 75;
/** run-task's exit status after SIGTERM stopped it with a checkpoint (128 + 15, what engines read as terminated). */
export const TERMINATED_EXIT_CODE = 143;

export const ENGINES = ['slurm', 'kubernetes', 'ray'] as const;
export type Engine = (typeof ENGINES)[number];

export interface ClusterResources {
  /** Wall-clock limit per task, seconds. */
  readonly timeSeconds: number;
  readonly cpus: number;
  /** Memory per task in MiB. */
  readonly memMiB: number;
  readonly gpus: number;
  readonly partition?: string;
  /** Container image with rwseg installed (Kubernetes). */
  readonly image: string;
  /** Seconds before the time limit at which Slurm sends USR1 (and the Kubernetes grace period). */
  readonly signalSeconds: number;
  /** Tasks running at once (Kubernetes parallelism); default all. */
  readonly parallelism?: number;
}

export const DEFAULT_RESOURCES = {
  time: '4:00:00',
  cpus: 4,
  mem: '16G',
  gpus: 0,
  image: 'rwseg:latest',
  signalSeconds: 300,
} as const;

const bad = (flag: string, message: string) =>
  new RwsegError('INVALID_OPTIONS', `--${flag}: ${message}`, { option: flag });

/** Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S -> seconds. */
export function parseTimeLimit(value: string, flag = 'time'): number {
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(value.trim());
  if (!m) throw bad(flag, `'${value}' is not a time limit (minutes, H:MM:SS or D-HH:MM:SS, e.g. 90 or 4:00:00)`);
  const [, d, a, b, c] = m;
  const days = Number(d ?? 0);
  let seconds: number;
  if (d !== undefined) seconds = Number(a) * 3600 + Number(b ?? 0) * 60 + Number(c ?? 0);
  else if (c !== undefined) seconds = Number(a) * 3600 + Number(b) * 60 + Number(c);
  else if (b !== undefined) seconds = Number(a) * 60 + Number(b);
  else seconds = Number(a) * 60;
  seconds += days * 86400;
  if (seconds <= 0) throw bad(flag, `'${value}' is not a positive time limit`);
  return seconds;
}

/** 16G, 4000M, 1T (Slurm's units; a bare number is MiB) -> MiB. */
export function parseMemory(value: string, flag = 'mem'): number {
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(value.trim());
  if (!m || Number(m[1]) <= 0) throw bad(flag, `'${value}' is not a memory size (e.g. 16G, 4000M)`);
  const scale = { '': 1, K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[
    m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'
  ];
  const mib = Math.ceil(Number(m[1]) * scale);
  return mib;
}

const integer = (flag: string, value: string | number | undefined, fallback: number, min: number) => {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min) throw bad(flag, `'${value}' is not an integer >= ${min}`);
  return n;
};

/** Resource flags -> ClusterResources, every value checked; errors name the flag. */
export function parseResources(flags: {
  time?: string;
  cpus?: string | number;
  mem?: string;
  gpus?: string | number;
  partition?: string;
  image?: string;
  signalSeconds?: string | number;
  parallelism?: string | number;
}): ClusterResources {
  const timeSeconds = parseTimeLimit(flags.time ?? DEFAULT_RESOURCES.time);
  const signalSeconds = integer(
    'signal-seconds',
    flags.signalSeconds,
    Math.min(DEFAULT_RESOURCES.signalSeconds, Math.floor(timeSeconds / 2)),
    1,
  );
  if (signalSeconds >= timeSeconds)
    throw bad('signal-seconds', `${signalSeconds} s must be less than the time limit (${timeSeconds} s)`);
  if (signalSeconds > 65535)
    throw bad('signal-seconds', `${signalSeconds} s is more than Slurm's --signal allows (65535)`);
  if (flags.partition !== undefined && !/^[A-Za-z0-9_.,-]+$/.test(flags.partition))
    throw bad('partition', `'${flags.partition}' is not a partition name`);
  const image = flags.image ?? DEFAULT_RESOURCES.image;
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(image))
    throw bad('image', `'${image}' is not a container image reference`);
  const parallelism = flags.parallelism === undefined ? undefined : integer('parallelism', flags.parallelism, 1, 1);
  return {
    timeSeconds,
    cpus: integer('cpus', flags.cpus, DEFAULT_RESOURCES.cpus, 1),
    memMiB: parseMemory(flags.mem ?? DEFAULT_RESOURCES.mem),
    gpus: integer('gpus', flags.gpus, DEFAULT_RESOURCES.gpus, 0),
    ...(flags.partition !== undefined ? { partition: flags.partition } : {}),
    image,
    signalSeconds,
    ...(parallelism !== undefined ? { parallelism } : {}),
  };
}

/** Seconds as Slurm's D-HH:MM:SS. */
export function slurmTime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const rest = seconds % 86400;
  const hms = [Math.floor(rest / 3600), Math.floor((rest % 3600) / 60), rest % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  return d > 0 ? `${d}-${hms}` : hms;
}

/** A word for a shell script, single-quoted when needed. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface EmitOptions {
  /** The command that runs rwseg on the nodes, as argv (default ['rwseg']). */
  readonly rwseg?: readonly string[];
  /** Where the plan file is, as the nodes see it. */
  readonly planFile: string;
}

const jobName = (plan: Pick<SweepPlan, 'name'>) =>
  `rwseg-${plan.name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+$/, '')
    .slice(0, 63);

export function slurmArrayScript(
  plan: Pick<SweepPlan, 'name' | 'outDir' | 'tasks'>,
  resources: ClusterResources,
  options: EmitOptions,
): string {
  const n = plan.tasks.length;
  const rwseg = [...(options.rwseg ?? ['rwseg'])].map(shellQuote).join(' ');
  const logs = path.join(plan.outDir, 'slurm');
  return [
    '#!/bin/bash',
    `# rwseg sweep ${plan.name}: ${n} task(s), one training each (written by rwseg sweep plan; submit with sbatch).`,
    `#SBATCH --job-name=${jobName(plan)}`,
    `#SBATCH --array=0-${n - 1}`,
    `#SBATCH --time=${slurmTime(resources.timeSeconds)}`,
    `#SBATCH --cpus-per-task=${resources.cpus}`,
    `#SBATCH --mem=${resources.memMiB}M`,
    ...(resources.gpus > 0 ? [`#SBATCH --gres=gpu:${resources.gpus}`] : []),
    ...(resources.partition ? [`#SBATCH --partition=${resources.partition}`] : []),
    '#SBATCH --requeue',
    `#SBATCH --signal=B:USR1@${resources.signalSeconds}`,
    `#SBATCH --output=${logs}/task-%a.out`,
    '#SBATCH --open-mode=append',
    '',
    '# Slurm sends USR1 to this shell before the time limit: it asks rwseg to stop with TERM (a USR1 reaching Node',
    "# before rwseg's handler is in place would open Node's debugger), rwseg finishes its step, writes a checkpoint",
    `# and exits ${TERMINATED_EXIT_CODE} (${STOPPED_EXIT_CODE} after a USR1 sent to it directly), and this element requeues itself; its next start`,
    '# resumes from the checkpoint. TERM (preemption, scancel) is passed on; a finished task exits 0 at once.',
    'child=',
    'requeue=0',
    'trap \'requeue=1; [ -n "$child" ] && kill -TERM "$child"\' USR1',
    'trap \'[ -n "$child" ] && kill -TERM "$child"\' TERM',
    `echo "rwseg task $SLURM_ARRAY_TASK_ID (job $SLURM_JOB_ID, restart \${SLURM_RESTART_COUNT:-0}) on $(hostname)"`,
    `${rwseg} sweep run-task "$SLURM_ARRAY_TASK_ID" --plan ${shellQuote(options.planFile)} &`,
    'child=$!',
    '[ "$requeue" = 1 ] && kill -TERM "$child"',
    '# wait returns early when a trapped signal arrives: wait again until rwseg has exited.',
    'while :; do',
    '  wait "$child"; status=$?',
    '  kill -0 "$child" 2>/dev/null || break',
    'done',
    "# The element is requeued by its array name: the last element's SLURM_JOB_ID is the array's own id, which",
    '# names every element, so requeueing it would stop the others too.',
    `if [ "$status" -eq ${STOPPED_EXIT_CODE} ] || { [ "$requeue" = 1 ] && [ "$status" -eq ${TERMINATED_EXIT_CODE} ]; }; then`,
    '  echo "rwseg task $SLURM_ARRAY_TASK_ID stopped with a checkpoint: requeueing job ${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID"',
    '  # A busy controller can refuse the request (a socket time-out): retry, and if it never takes, exit with',
    "  # rwseg's status so the element ends FAILED with its checkpoint kept (sweep collect lists it as stopped),",
    '  # never COMPLETED with the training unfinished. A requeue that takes ends this script by itself.',
    '  for wait_s in 1 2 4 8 16; do',
    '    scontrol requeue "${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID" && exit 0',
    '    sleep "$wait_s"',
    '  done',
    '  echo "rwseg task $SLURM_ARRAY_TASK_ID: scontrol requeue failed 5 times; resubmit the task to resume it" >&2',
    'fi',
    'exit "$status"',
    '',
  ].join('\n');
}

/** MiB as a Kubernetes quantity. */
const kubernetesMemory = (mib: number) => (mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`);

export function kubernetesIndexedJob(
  plan: Pick<SweepPlan, 'name' | 'outDir' | 'tasks'>,
  resources: ClusterResources,
  options: EmitOptions & { claimName?: string },
): Record<string, unknown> {
  const n = plan.tasks.length;
  const quantities = {
    cpu: String(resources.cpus),
    memory: kubernetesMemory(resources.memMiB),
    ...(resources.gpus > 0 ? { 'nvidia.com/gpu': String(resources.gpus) } : {}),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(plan),
      labels: { 'app.kubernetes.io/name': 'rwseg', 'rwseg/sweep': jobName(plan).slice(6) || 'sweep' },
    },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: Math.min(resources.parallelism ?? n, n),
      // A failed or evicted index is retried on its own and resumes from its checkpoint.
      backoffLimitPerIndex: 3,
      template: {
        spec: {
          restartPolicy: 'Never',
          // SIGTERM on eviction: time for rwseg to finish the step and write its checkpoint.
          terminationGracePeriodSeconds: resources.signalSeconds,
          activeDeadlineSeconds: resources.timeSeconds,
          containers: [
            {
              name: 'rwseg',
              image: resources.image,
              // run-task reads its index from JOB_COMPLETION_INDEX, which the Indexed Job sets in every pod.
              command: [...(options.rwseg ?? ['rwseg']), 'sweep', 'run-task', '--plan', options.planFile],
              resources: { requests: quantities, limits: quantities },
              volumeMounts: [{ name: 'runs', mountPath: plan.outDir }],
            },
          ],
          volumes: [{ name: 'runs', persistentVolumeClaim: { claimName: options.claimName ?? 'rwseg-runs' } }],
        },
      },
    },
  };
}

export function kubernetesIndexedJobYaml(...args: Parameters<typeof kubernetesIndexedJob>): string {
  const [plan] = args;
  return (
    `# rwseg sweep ${plan.name}: ${plan.tasks.length} task(s) as a Kubernetes Indexed Job (kubectl apply -f this file).\n` +
    `# The PersistentVolumeClaim is mounted at ${plan.outDir}, where the plan puts the runs; the data must be at the\n# paths the plan names inside the image or on another volume.\n` +
    yamlStringify(kubernetesIndexedJob(...args))
  );
}

const pythonString = (s: string) => JSON.stringify(s);

export function rayEntrypoint(
  plan: Pick<SweepPlan, 'name' | 'tasks'>,
  resources: ClusterResources,
  options: EmitOptions,
): string {
  const rwseg = `[${[...(options.rwseg ?? ['rwseg'])].map(pythonString).join(', ')}]`;
  const tasks = plan.tasks.map((t) => t.index);
  const names = plan.tasks.map((t) => t.name);
  return `#!/usr/bin/env python3
"""rwseg sweep ${plan.name}: ${tasks.length} task(s) as a Ray Jobs entrypoint, one Ray task per sweep task.

Submit (written by rwseg sweep plan):
    ray job submit --address http://HEAD:8265 -- python ray-sweep.py
Each Ray task runs \`rwseg sweep run-task INDEX --plan PLAN\` on a worker with the plan and the data at the same
paths. A task stopped by a signal (exit ${STOPPED_EXIT_CODE} or ${TERMINATED_EXIT_CODE}) or failed is retried by Ray and resumes from its
checkpoint; a finished one exits 0 at once. Then \`rwseg sweep collect --plan PLAN\` merges the results.
"""
import subprocess
import sys

import ray

PLAN = ${pythonString(options.planFile)}
RWSEG = ${rwseg}
TASKS = ${JSON.stringify(tasks)}
NAMES = ${JSON.stringify(names)}
RESUMABLE = (${STOPPED_EXIT_CODE}, ${TERMINATED_EXIT_CODE})


@ray.remote(num_cpus=${resources.cpus}, num_gpus=${resources.gpus}, memory=${resources.memMiB} * 1024 * 1024, max_retries=3, retry_exceptions=True)
def run_task(index):
    status = subprocess.call(RWSEG + ["sweep", "run-task", str(index), "--plan", PLAN])
    if status in RESUMABLE:
        raise RuntimeError(f"task {index} stopped with a checkpoint (exit {status}); retrying resumes it")
    return index, status


def main():
    ray.init()
    results = ray.get([run_task.remote(i) for i in TASKS])
    failed = [(NAMES[i], status) for i, status in results if status != 0]
    for name, status in failed:
        print(f"task {name} failed with exit {status}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
`;
}

/** The engine's job file name beside the plan. */
export function engineFileName(engine: Engine): string {
  return { slurm: 'sweep.sbatch', kubernetes: 'sweep-job.yaml', ray: 'ray-sweep.py' }[engine];
}

export function emitEngineFile(
  engine: Engine,
  plan: Pick<SweepPlan, 'name' | 'outDir' | 'tasks'>,
  resources: ClusterResources,
  options: EmitOptions,
): string {
  if (engine === 'slurm') return slurmArrayScript(plan, resources, options);
  if (engine === 'kubernetes') return kubernetesIndexedJobYaml(plan, resources, options);
  return rayEntrypoint(plan, resources, options);
}
