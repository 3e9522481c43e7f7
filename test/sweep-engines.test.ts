/**
 * The job files `rwseg sweep plan --emit` writes, judged by the engines' own definitions: the Kubernetes Indexed Job
 * against the Kubernetes API schema of batch/v1 Job (kubernetes-models: the OpenAPI schema compiled by ajv into
 * each model's validate()), the Ray entrypoint by Python's compiler, the Slurm script by bash. The real Slurm run is in
 * sweep-slurm.test.ts.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { errorText, parseJson, runCli } from './helpers/cli.js';
import { readJson, tinySweepFolder } from './helpers/sweep.js';

interface Planned {
  plan: string;
  engineFile: string;
  tasks: { index: number; name: string; loss: string; seed: number; fold: number; folds: number; dir: string }[];
}

async function emit(engine: string, ...flags: string[]): Promise<Planned & { out: string }> {
  const { dir, yaml } = tinySweepFolder();
  const out = path.join(dir, 'runs');
  const result = await runCli(['sweep', 'plan', yaml, '--out', out, '--emit', engine, '--json', ...flags], {
    cwd: dir,
  });
  if (result.code !== 0) throw new Error(`sweep plan failed (${result.code}): ${result.stdout}\n${result.stderr}`);
  return { ...parseJson<Planned>(result), out };
}

/** The schema validator's errors as `path keyword params` lines (Job.validate throws them, compiled by ajv). */
type SchemaError = { instancePath: string; keyword: string; params: unknown };
const schemaErrors = (job: unknown): string[] => {
  try {
    new Job(job as ConstructorParameters<typeof Job>[0]).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: SchemaError[] }).errors;
    if (!errors) throw error;
    return errors.map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);
  }
};

test('the plan numbers losses x seeds x folds, fold fastest, with each run resolved in it', async (t) => {
  const planned = await emit('slurm');
  t.deepEqual(
    planned.tasks.map((x) => [x.index, x.loss, x.seed, x.fold, x.folds]),
    [
      [0, 'dice', 3, 0, 2],
      [1, 'dice', 3, 1, 2],
      [2, 'ce', 3, 0, 2],
      [3, 'ce', 3, 1, 2],
    ],
  );
  t.deepEqual(
    planned.tasks.map((x) => path.relative(planned.out, x.dir)),
    ['dice/seed-3/fold-0', 'dice/seed-3/fold-1', 'ce/seed-3/fold-0', 'ce/seed-3/fold-1'],
  );
  const plan = readJson(planned.plan);
  t.is(plan.schema, 'rwseg-sweep-plan/1');
  t.deepEqual(plan.tasks[3].config.split, { method: 'kfold', seed: 0, folds: 2, fold: 1 });
  t.is(plan.tasks[3].config.sweep, undefined);
  t.is(plan.tasks[2].config.loss, 'cross-entropy');
});

test('the Kubernetes Indexed Job passes the batch/v1 Job schema and runs task JOB_COMPLETION_INDEX', async (t) => {
  const planned = await emit(
    'kubernetes',
    '--cpus',
    '2',
    '--mem',
    '3G',
    '--gpus',
    '1',
    '--image',
    'registry.example/rwseg:0.1',
    '--parallelism',
    '2',
    '--time',
    '1:30:00',
  );
  const job = parseYaml(readFileSync(planned.engineFile, 'utf8')) as any;
  t.deepEqual(schemaErrors(job), []);
  t.is(job.kind, 'Job');
  t.is(job.spec.completionMode, 'Indexed');
  t.is(job.spec.completions, 4);
  t.is(job.spec.parallelism, 2);
  const pod = job.spec.template.spec;
  t.is(pod.activeDeadlineSeconds, 5400);
  const container = pod.containers[0];
  t.is(container.image, 'registry.example/rwseg:0.1');
  // No index on the command line: run-task reads JOB_COMPLETION_INDEX, which the Indexed Job sets in every pod.
  t.deepEqual(container.command.slice(-4), ['sweep', 'run-task', '--plan', planned.plan]);
  t.deepEqual(container.resources.limits, { cpu: '2', memory: '3Gi', 'nvidia.com/gpu': '1' });
  t.is(container.volumeMounts[0].mountPath, planned.out);
  t.is(pod.volumes[0].persistentVolumeClaim.claimName, 'rwseg-runs');
});

test('the schema check rejects a manifest with a wrong field', async (t) => {
  const planned = await emit('kubernetes');
  const job = () => parseYaml(readFileSync(planned.engineFile, 'utf8')) as any;
  const wrongCount = job();
  wrongCount.spec.completions = 'four';
  t.true(schemaErrors(wrongCount).some((e) => /^\/spec\/completions type {"type":"integer"}/.test(e)));
  const wrongMode = job();
  wrongMode.spec.completionMode = 'Indexd';
  t.true(
    schemaErrors(wrongMode).some((e) =>
      /^\/spec\/completionMode enum {"allowedValues":\["Indexed","NonIndexed"\]}/.test(e),
    ),
  );
  const wrongQuantity = job();
  wrongQuantity.spec.template.spec.containers[0].resources.limits.cpu = 'lots';
  t.true(
    schemaErrors(wrongQuantity).some((e) => /^\/spec\/template\/spec\/containers\/0\/resources\/limits\/cpu /.test(e)),
  );
  const noTemplate = job();
  delete noTemplate.spec.template;
  t.true(schemaErrors(noTemplate).some((e) => /^\/spec required {"missingProperty":"template"}/.test(e)));
});

test('the Ray entrypoint compiles as Python and launches one task per plan index', async (t) => {
  const planned = await emit('ray', '--cpus', '3', '--gpus', '1');
  const compiled = spawnSync('/usr/bin/python3', ['-m', 'py_compile', planned.engineFile], { encoding: 'utf8' });
  t.is(compiled.status, 0, compiled.stderr);
  // The task list and resources as Python reads them (ast, without importing ray).
  const read = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read())
values = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id in ("TASKS", "NAMES", "PLAN")}
remote = [d for f in tree.body if isinstance(f, ast.FunctionDef) for d in f.decorator_list if isinstance(d, ast.Call)][0]
values["remote"] = {k.arg: ast.unparse(k.value) for k in remote.keywords}
print(json.dumps(values))
`,
      planned.engineFile,
    ],
    { encoding: 'utf8' },
  );
  t.is(read.status, 0, read.stderr);
  const values = JSON.parse(read.stdout);
  t.deepEqual(
    values.TASKS,
    planned.tasks.map((x) => x.index),
  );
  t.deepEqual(
    values.NAMES,
    planned.tasks.map((x) => x.name),
  );
  t.is(values.PLAN, planned.plan);
  t.is(values.remote.num_cpus, '3');
  t.is(values.remote.num_gpus, '1');
});

test('the Slurm array script is valid bash with the array, limits, requeue and signal', async (t) => {
  const planned = await emit(
    'slurm',
    '--time',
    '2:00:00',
    '--cpus',
    '8',
    '--mem',
    '32G',
    '--gpus',
    '1',
    '--partition',
    'gpu',
    '--signal-seconds',
    '600',
  );
  const script = readFileSync(planned.engineFile, 'utf8');
  t.is(spawnSync('bash', ['-n', planned.engineFile]).status, 0);
  for (const line of [
    '--array=0-3',
    '--time=02:00:00',
    '--cpus-per-task=8',
    '--mem=32768M',
    '--gres=gpu:1',
    '--partition=gpu',
    '--requeue',
    '--signal=B:USR1@600',
    `--output=${planned.out}/slurm/task-%a.out`,
  ]) {
    t.true(script.includes(`#SBATCH ${line}\n`), line);
  }
  t.regex(script, /sweep run-task "\$SLURM_ARRAY_TASK_ID" --plan /);
  t.regex(script, /scontrol requeue "\$\{SLURM_ARRAY_JOB_ID\}_\$SLURM_ARRAY_TASK_ID"/);
});

/**
 * Runs the emitted Slurm script outside Slurm as its batch step would run, with `scontrol` on PATH replaced by a
 * script that logs its arguments and fails `failures` times (a busy controller), and USR1 sent as Slurm's
 * --signal would: the script must stop rwseg, then retry the requeue, and never end with 0 when none took.
 */
async function signalledElement(failures: number) {
  const planned = await emit('slurm');
  const bin = path.join(planned.out, 'fake-bin');
  mkdirSync(bin, { recursive: true });
  const calls = path.join(bin, 'calls.log');
  writeFileSync(
    path.join(bin, 'scontrol'),
    `#!/bin/bash\necho "$*" >> ${calls}\n[ "$(wc -l < ${calls})" -gt ${failures} ] || { echo "Socket timed out" >&2; exit 1; }\n`,
  );
  chmodSync(path.join(bin, 'scontrol'), 0o755);
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    SLURM_ARRAY_TASK_ID: '0',
    SLURM_ARRAY_JOB_ID: '41',
    SLURM_JOB_ID: '42',
  };
  const child = spawn('bash', [planned.engineFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    // The first line is printed after the traps are in place: Slurm's USR1 may come from then on.
    if (stdout === '' && d.length > 0) child.kill('SIGUSR1');
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  let logged: string[] = [];
  try {
    logged = readFileSync(calls, 'utf8').trim().split('\n');
  } catch {
    // never called
  }
  return { code, stdout, stderr, calls: logged };
}

test('a signalled Slurm element retries a refused requeue and exits 0 once one takes', async (t) => {
  const r = await signalledElement(2);
  t.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  t.deepEqual(r.calls, ['requeue 41_0', 'requeue 41_0', 'requeue 41_0']);
  t.regex(r.stdout, /stopped with a checkpoint: requeueing job 41_0/);
});

test('a signalled Slurm element whose requeue never takes ends failed, not completed', async (t) => {
  const r = await signalledElement(100);
  t.is(r.calls.length, 5);
  t.not(r.code, 0, 'exit 0 would mark an unfinished training COMPLETED');
  t.regex(r.stderr, /scontrol requeue failed 5 times; resubmit the task to resume it/);
});

test('bad resource values stop with exit 2 naming the flag', async (t) => {
  const { dir, yaml } = tinySweepFolder();
  const cases: [string[], RegExp][] = [
    [['--time', 'soon'], /--time: 'soon' is not a time limit/],
    [['--cpus', '0'], /--cpus: '0' is not an integer >= 1/],
    [['--mem', 'lots'], /--mem: 'lots' is not a memory size/],
    [['--gpus', '-1'], /--gpus: '-1' is not an integer >= 0/],
    [['--time', '10', '--signal-seconds', '900'], /--signal-seconds: 900 s must be less than the time limit \(600 s\)/],
    [['--partition', 'a b'], /--partition: 'a b' is not a partition name/],
    [['--emit', 'pbs'], /--emit/],
  ];
  for (const [flags, message] of cases) {
    const result = await runCli(['sweep', 'plan', yaml, '--out', path.join(dir, 'runs'), ...flags], { cwd: dir });
    t.is(result.code, 2, flags.join(' '));
    t.regex(errorText(result), message);
  }
});
