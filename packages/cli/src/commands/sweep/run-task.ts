import path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BACKEND_CHOICES } from '@rwseg/core';
import {
  listenForStopSignals,
  readSweepPlan,
  runSweepTask,
  SWEEP_PLAN_FILE,
  taskIndexFromEnvironment,
} from '@rwseg/core/pipeline';
import { createProgressWriter } from '@rwseg/core/training';
import { RwsegCommand } from '../../base-command.js';

export default class SweepRunTask extends RwsegCommand {
  static override summary = 'Run task N of a sweep plan: the one training a cluster array element does.';
  static override description =
    'N defaults to SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX. A finished run exits 0 at once; a run with a ' +
    'checkpoint resumes (a requeued task); otherwise it starts. SIGUSR1 or SIGTERM make it finish the current ' +
    'step, write a checkpoint and exit 75 (USR1) or 143 (TERM), state "stopped" in <run>/task.json; running it ' +
    'again continues to the result an uninterrupted run gives. See docs/cluster.md.';
  static override examples = [
    '<%= config.bin %> sweep run-task 3 --plan runs/paper/sweep-plan.json',
    'SLURM_ARRAY_TASK_ID=3 <%= config.bin %> sweep run-task --plan runs/paper/sweep-plan.json',
  ];
  static override args = { task: Args.string({ description: 'task number (0..N-1); default from the engine' }) };
  static override flags = {
    plan: Flags.string({ description: `the plan file (default ./${SWEEP_PLAN_FILE})`, default: SWEEP_PLAN_FILE }),
    backend: Flags.option({
      options: BACKEND_CHOICES as string[],
      description: "TF.js backend (default: the plan's)",
    })(),
  };

  async run() {
    const { args, flags } = await this.parse(SweepRunTask);
    // First: a signal during the setup below must become a stop request, not Node's default (USR1 opens the inspector).
    const signals = listenForStopSignals(this.logger);
    const index = taskIndexFromEnvironment(args.task);
    const plan = readSweepPlan(path.resolve(flags.plan));
    const registry = await this.loadRegistry([...plan.plugins, ...(flags.plugin ?? [])]);
    const task = plan.tasks[index];
    if (task) this.logger.info(`task ${index} of ${plan.tasks.length}: ${task.name} in ${task.dir}`);
    const write = createProgressWriter(process.stderr, task?.name ?? String(index), {
      intervalSeconds: plan.config.training.progressIntervalSeconds,
    });
    try {
      const result = await runSweepTask(plan, index, {
        registry,
        plugins: flags.plugin,
        backend: flags.backend as never,
        logger: this.logger,
        stop: signals.stop,
        onEvent: (_run, event) => write(event),
      });
      if (result.state === 'stopped') process.exitCode = signals.exitCode();
      if (!this.jsonEnabled()) this.log(describe(result));
      const v = result.run?.result.finalValidation;
      return {
        index,
        name: result.task.name,
        dir: result.task.dir,
        state: result.state,
        alreadyDone: result.alreadyDone,
        attempts: result.status.attempts,
        ...(result.status.stopped ? { stopped: result.status.stopped } : {}),
        ...(v
          ? {
              validation: {
                meanDice: v.meanDice,
                classes: v.classes,
                ...(v.loss !== undefined ? { loss: v.loss } : {}),
              },
            }
          : {}),
      };
    } finally {
      signals.dispose();
    }
  }
}

function describe(result: Awaited<ReturnType<typeof runSweepTask>>): string {
  const { task, state, status } = result;
  if (result.alreadyDone) return `task ${task.index} (${task.name}) is already done: ${task.dir}`;
  if (state === 'stopped') {
    const at = status.stopped!;
    return (
      `task ${task.index} (${task.name}) stopped at epoch ${at.epoch}, step ${at.iteration} (${at.reason ?? 'stop request'}); ` +
      `its checkpoint ${at.checkpoint} resumes it when the task runs again`
    );
  }
  const v = result.run?.result.finalValidation;
  return `task ${task.index} (${task.name}) done in ${task.dir}${v ? `: mean foreground Dice ${v.meanDice.toFixed(3)}` : ''}`;
}
