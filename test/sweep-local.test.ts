/**
 * `rwseg sweep plan / run-task / collect` on this machine, without an engine: what each array element and the
 * final collect do, including a task stopped by SIGTERM (exit 143, a resumable state) and run again.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI_BIN, errorText, parseJson, runCli } from '@rwseg/test-helpers/cli';
import { waitFor } from '@rwseg/test-helpers/slurm';
import { readJson, tinySweepFolder } from '@rwseg/test-helpers/sweep';

test.serial(
  'run-task runs one task, stops resumably on SIGTERM, resumes; collect reports and then compares',
  async (t) => {
    const { dir, yaml } = tinySweepFolder({ epochs: 3, iterations: 20 });
    const out = path.join(dir, 'runs');
    const planned = await runCli(['sweep', 'plan', yaml, '--out', out, '--json'], { cwd: dir });
    t.is(planned.code, 0, planned.stderr);
    const plan = path.join(out, 'sweep-plan.json');
    const tasks = parseJson<{ tasks: { dir: string }[] }>(planned).tasks;

    // Task 1 from the engine's variable, stopped by SIGTERM once it has finished an epoch.
    const child = spawn(process.execPath, [CLI_BIN, 'sweep', 'run-task', '--plan', plan], {
      cwd: dir,
      env: { ...process.env, SLURM_ARRAY_TASK_ID: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const history = path.join(tasks[1]!.dir, 'history.jsonl');
    await waitFor(
      'task 1 to finish an epoch',
      () =>
        existsSync(history) && readFileSync(history, 'utf8').trim() ? true : child.exitCode !== null ? true : undefined,
      120_000,
    );
    child.kill('SIGTERM');
    t.is(await exited, 143, stderr);
    t.regex(stderr, /SIGTERM: finishing the current training step/);
    const stopped = readJson(path.join(tasks[1]!.dir, 'task.json'));
    t.is(stopped.state, 'stopped');
    t.is(stopped.engine.SLURM_ARRAY_TASK_ID, '1');

    const early = await runCli(['sweep', 'collect', '--plan', plan], { cwd: dir });
    t.is(early.code, 1);
    t.regex(early.stdout, /^1\s+dice\/seed-3\/fold-1\s+stopped\s+1\s.*resumes at epoch/m);
    t.regex(early.stdout, /0 of 4 runs done/);
    t.false(existsSync(path.join(out, 'comparison.md')));

    const resumed = await runCli(['sweep', 'run-task', '1', '--plan', plan, '--json'], { cwd: dir });
    t.is(resumed.code, 0, resumed.stderr);
    t.like(parseJson(resumed), { index: 1, state: 'done', alreadyDone: false, attempts: 2 });
    t.deepEqual(
      readFileSync(history, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).epoch),
      [1, 2, 3],
    );
    const repeated = await runCli(['sweep', 'run-task', '1', '--plan', plan, '--json'], { cwd: dir });
    t.like(parseJson(repeated), { state: 'done', alreadyDone: true, attempts: 2 });

    const partial = await runCli(['sweep', 'collect', '--plan', plan, '--partial', '--json'], { cwd: dir });
    t.is(partial.code, 0, partial.stderr);
    t.like(parseJson(partial), { complete: false, done: 1 });
    t.true(existsSync(path.join(out, 'comparison.md')));

    // The records alone (no model, no checkpoints) collect to the same table, written beside them.
    const records = path.join(dir, 'records');
    const kept = await runCli(['sweep', 'collect', '--plan', plan, '--partial', '--records', records], { cwd: dir });
    t.is(kept.code, 0, kept.stderr);
    t.false(existsSync(path.join(records, 'dice/seed-3/fold-1/model')));
    const fromRecords = await runCli(['sweep', 'collect', '--plan', plan, '--runs', records, '--partial'], {
      cwd: dir,
    });
    t.is(fromRecords.code, 0, fromRecords.stderr);
    t.regex(fromRecords.stdout, /^1\s+dice\/seed-3\/fold-1\s+done\s.*record only/m);
    t.is(
      readFileSync(path.join(records, 'comparison.md'), 'utf8'),
      readFileSync(path.join(out, 'comparison.md'), 'utf8'),
    );

    const wrong = await runCli(['sweep', 'run-task', '9', '--plan', plan], { cwd: dir });
    t.is(wrong.code, 2);
    t.regex(errorText(wrong), /task 9 is out of range: .* has 4 task\(s\), 0\.\.3/);
    const noPlan = await runCli(['sweep', 'collect', '--plan', path.join(dir, 'nope.json')], { cwd: dir });
    t.is(noPlan.code, 2);
    t.regex(errorText(noPlan), /cannot read sweep plan .*nope\.json.*rwseg sweep plan/);
  },
);
