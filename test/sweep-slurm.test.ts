/**
 * A sweep as a real Slurm array job on localhost: `rwseg sweep plan --emit slurm`, sbatch with a 1-minute time
 * limit whose `--signal=B:USR1@30` stops tasks with a checkpoint; they requeue themselves and resume; then
 * `rwseg sweep collect`. Skips off CI where Slurm is not installed; CI installs it.
 */
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseJson, runCli } from './helpers/cli.js';
import { slurmSkipReason, startLocalSlurm, waitFor, type LocalSlurm } from './helpers/slurm.js';
import { tinySweepFolder } from './helpers/sweep.js';

const reason = slurmSkipReason();
if (reason) console.log(`Slurm sweep test skipped here (CI runs it): ${reason}`);
const slurmTest = reason ? test.serial.skip : test.serial;

let slurm: LocalSlurm | undefined;
test.after.always(() => slurm?.stop());

slurmTest(
  'a tiny sweep runs as a Slurm array; tasks stopped by their time limit requeue themselves and resume',
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

    // Each task trains for longer than its 1-minute limit even on a fast idle machine (2,400 steps; about 25 a second
    // here, so up to 40 a second stays over the minute), so Slurm's USR1 30 s before the limit (sent at the
    // controller's first 30-second check after that point, i.e. 30-60 s after the start) stops every task at least
    // once: they requeue themselves. Their second attempt gets a 30-minute limit (below), so it resumes and finishes
    // however loaded the machine is: two attempts each, whatever the speed.
    const { dir, yaml } = tinySweepFolder({ epochs: 4, iterations: 600, diceOnly: true });
    const out = path.join(dir, 'runs');
    const planArgs = [
      '--emit',
      'slurm',
      '--time',
      '1',
      '--cpus',
      '1',
      '--mem',
      '500M',
      '--signal-seconds',
      '30',
      '--json',
    ];
    const plan = await runCli(['sweep', 'plan', yaml, '--out', out, ...planArgs], { cwd: dir });
    t.is(plan.code, 0, plan.stderr);
    const planned = parseJson<{ engineFile: string; tasks: { index: number; dir: string }[] }>(plan);
    t.is(planned.tasks.length, 2);
    const script = readFileSync(planned.engineFile, 'utf8');
    t.regex(script, /#SBATCH --array=0-1\n/);
    t.regex(script, /#SBATCH --time=00:01:00\n/);
    t.regex(script, /#SBATCH --signal=B:USR1@30\n/);

    const submitted = slurm.run('sbatch', ['--parsable', planned.engineFile], { cwd: dir });
    t.is(submitted.status, 0, submitted.stderr);
    const job = submitted.stdout.trim().split(';')[0]!;

    // Slurm holds a requeued element for two minutes (its begin time). The test does what an operator could: it
    // raises the held element's time limit to 30 minutes and starts it sooner, but not at once: slurmd refuses to
    // launch a job it killed moments ago ("already killed, do not launch batch job") and the element then fails, so
    // an element is released after 15 s pending. An element being
    // requeued can drop out of squeue's list for a moment, so the job counts as finished only once the list has
    // stayed empty for 5 polls in a row.
    const heldSince = new Map<string, number>();
    let emptyPolls = 0;
    await waitFor(
      'the array job to finish',
      () => {
        const listed = slurm!.run('squeue', ['-h', '-j', job, '-o', '%i %T %r']);
        // squeue fails (and prints nothing on stdout) while the controller is busy requeueing: not an empty list.
        if (listed.status !== 0) return undefined;
        const states = listed.stdout.trim();
        const held = states.split('\n').flatMap((l) => (/ PENDING BeginTime/.test(l) ? [l.split(' ')[0]!] : []));
        for (const id of heldSince.keys()) if (!held.includes(id)) heldSince.delete(id);
        for (const id of held) {
          if (!heldSince.has(id)) {
            heldSince.set(id, Date.now());
            slurm!.run('scontrol', ['update', `JobId=${id}`, 'TimeLimit=30:00']);
          }
          if (Date.now() - heldSince.get(id)! >= 15_000) {
            slurm!.run('scontrol', ['update', `JobId=${id}`, 'StartTime=now']);
          }
        }
        emptyPolls = states === '' ? emptyPolls + 1 : 0;
        return emptyPolls >= 5 ? true : undefined;
      },
      540_000,
      1000,
    ).catch((e: Error) => t.fail(`${e.message}\n${slurm!.run('squeue', ['-j', job]).stdout}\n${slurm!.logs()}`));

    const collect = await runCli(['sweep', 'collect', '--plan', path.join(out, 'sweep-plan.json'), '--json'], {
      cwd: dir,
    });
    const logs = planned.tasks.map((x) => readFileSync(path.join(out, 'slurm', `task-${x.index}.out`), 'utf8'));
    t.is(collect.code, 0, `${collect.stdout}\n${collect.stderr}\n${logs.join('\n')}`);
    const report = parseJson<{ complete: boolean; tasks: { state: string; attempts: number }[] }>(collect);
    t.true(report.complete);
    t.deepEqual(
      report.tasks.map((x) => x.state),
      ['done', 'done'],
    );
    const requeued = report.tasks.flatMap((x, i) => (x.attempts > 1 ? [i] : []));
    t.log(`attempts per task: ${report.tasks.map((x) => x.attempts).join(', ')}`);
    t.deepEqual(
      report.tasks.map((x) => x.attempts),
      [2, 2],
      `every task is stopped once by its time limit's signal, then resumes: ${JSON.stringify(report.tasks)}`,
    );
    for (const i of requeued) {
      t.regex(logs[i]!, /stopped with a checkpoint: requeueing job/);
      t.regex(logs[i]!, /restart 1\)/);
    }
    t.true(readFileSync(path.join(out, 'comparison.md'), 'utf8').includes('| dice |'));
    // Every run trained every epoch once: a complete history, no leftover mid-epoch checkpoint.
    for (const task of planned.tasks) {
      const epochs = readFileSync(path.join(task.dir, 'history.jsonl'), 'utf8').trim().split('\n');
      t.deepEqual(
        epochs.map((l) => JSON.parse(l).epoch),
        [1, 2, 3, 4],
      );
      t.false(existsSync(path.join(task.dir, 'checkpoints', 'stopped.ckpt')));
    }
  },
);
