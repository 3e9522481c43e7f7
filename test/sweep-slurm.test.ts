/**
 * A sweep as a real Slurm array job on localhost: `rwseg sweep plan --emit slurm`, sbatch, one element stopped by
 * USR1 to its batch shell (what `--signal=B:USR1@S` delivers before the time limit) so it checkpoints, requeues
 * itself and resumes, then `rwseg sweep collect`. Skips off CI where Slurm is not installed; CI installs it.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJson, runCli } from './helpers/cli.js';
import { slurmSkipReason, startLocalSlurm, waitFor, type LocalSlurm } from './helpers/slurm.js';
import { readJson, tinySweepFolder } from './helpers/sweep.js';

const reason = slurmSkipReason();
if (reason) console.log(`Slurm sweep test skipped here (CI runs it): ${reason}`);
const slurmTest = reason ? test.serial.skip : test.serial;

let slurm: LocalSlurm | undefined;
test.after.always(() => slurm?.stop());

slurmTest(
  'a tiny sweep runs as a Slurm array; a task stopped by USR1 requeues itself, resumes and completes',
  async (t) => {
    slurm = startLocalSlurm({ cpus: 2 });
    const up = await waitFor(
      'the node to come up idle',
      () => {
        const r = slurm!.run('sinfo', ['-h', '-o', '%t']);
        return /idle/.test(r.stdout) ? r.stdout : undefined;
      },
      60_000,
    ).catch((e: Error) => t.fail(`${e.message}\n${slurm!.logs()}`));
    t.truthy(up);

    // Long enough per task (4 epochs x 20 steps) that the signal lands during training.
    const { dir, yaml } = tinySweepFolder({ epochs: 4, iterations: 20 });
    const out = path.join(dir, 'runs');
    const plan = await runCli(
      [
        'sweep',
        'plan',
        yaml,
        '--out',
        out,
        '--emit',
        'slurm',
        '--time',
        '10',
        '--cpus',
        '1',
        '--mem',
        '500M',
        '--signal-seconds',
        '60',
        '--json',
      ],
      { cwd: dir },
    );
    t.is(plan.code, 0, plan.stderr);
    const planned = parseJson<{ engineFile: string; tasks: { index: number; dir: string }[] }>(plan);
    t.is(planned.tasks.length, 4);
    const script = readFileSync(planned.engineFile, 'utf8');
    t.regex(script, /#SBATCH --array=0-3\n/);
    t.regex(script, /#SBATCH --signal=B:USR1@60\n/);

    const submitted = slurm.run('sbatch', ['--parsable', planned.engineFile], { cwd: dir });
    t.is(submitted.status, 0, submitted.stderr);
    const job = submitted.stdout.trim().split(';')[0]!;
    const task0 = planned.tasks[0]!.dir;

    // Once task 0 has completed an epoch, signal its batch shell as the time limit's --signal would.
    await waitFor(
      'task 0 to finish its first epoch',
      () =>
        existsSync(path.join(task0, 'history.jsonl')) && readFileSync(path.join(task0, 'history.jsonl'), 'utf8').trim()
          ? true
          : undefined,
      180_000,
    );
    // scancel delivers at once but keeps retrying while the element requeues ("can not be altered now"): do not wait.
    slurm.run('scancel', ['--signal=USR1', '--batch', `${job}_0`], { timeoutMs: 5000 });
    const stopped = await waitFor(
      'task 0 to stop with a checkpoint',
      () => {
        const status = existsSync(path.join(task0, 'task.json')) ? readJson(path.join(task0, 'task.json')) : undefined;
        return status?.state === 'stopped' || status?.attempts > 1 ? status : undefined;
      },
      120_000,
    );
    t.is(stopped.attempts, 1);
    t.is(stopped.stopped.reason, 'SIGUSR1');
    t.is(stopped.engine.SLURM_ARRAY_TASK_ID, '0');

    // Slurm holds a requeued job for two minutes (its begin time); let it start now, as an operator could.
    await waitFor(
      'task 0 to be requeued and start again',
      () => {
        const state = slurm!.run('squeue', ['-h', '-j', `${job}_0`, '-o', '%T']).stdout.trim();
        if (state === 'PENDING') slurm!.run('scontrol', ['update', `JobId=${job}_0`, 'StartTime=now']);
        const status = readJson(path.join(task0, 'task.json'));
        return status.attempts > 1 ? true : undefined;
      },
      180_000,
      1000,
    );
    await waitFor(
      'the array job to finish',
      () => (slurm!.run('squeue', ['-h', '-j', job]).stdout.trim() === '' ? true : undefined),
      300_000,
      1000,
    ).catch((e: Error) => t.fail(`${e.message}\n${slurm!.run('squeue', ['-j', job]).stdout}\n${slurm!.logs()}`));

    const log0 = readFileSync(path.join(out, 'slurm', 'task-0.out'), 'utf8');
    t.regex(log0, /stopped with a checkpoint: requeueing job/);
    t.regex(log0, /restart 1\)/);
    const collect = await runCli(['sweep', 'collect', '--plan', path.join(out, 'sweep-plan.json'), '--json'], {
      cwd: dir,
    });
    t.is(collect.code, 0, `${collect.stdout}\n${collect.stderr}\n${log0}`);
    const report = parseJson<{
      complete: boolean;
      tasks: { index: number; state: string; attempts: number }[];
      files: string[];
    }>(collect);
    t.true(report.complete);
    t.deepEqual(
      report.tasks.map((x) => x.state),
      ['done', 'done', 'done', 'done'],
    );
    t.deepEqual(
      report.tasks.map((x) => x.attempts),
      [2, 1, 1, 1],
    );
    t.true(readFileSync(path.join(out, 'comparison.md'), 'utf8').includes('| dice |'));
    // The resumed run trained every epoch once: a complete history, no leftover mid-epoch checkpoint.
    t.deepEqual(
      readFileSync(path.join(task0, 'history.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).epoch),
      [1, 2, 3, 4],
    );
    t.false(existsSync(path.join(task0, 'checkpoints', 'stopped.ckpt')));
  },
);
