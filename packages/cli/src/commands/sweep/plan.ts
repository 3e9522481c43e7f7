import path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import { writeFileAtomic } from '@rwseg/core/io';
import { buildLoss } from '@rwseg/core/losses';
import {
  DEFAULT_RESOURCES,
  emitEngineFile,
  engineFileName,
  ENGINES,
  loadPipeline,
  parseResources,
  planSweep,
  sweepPlanTable,
  writeSweepPlan,
  type Engine,
} from '@rwseg/core/pipeline';
import { chmodSync, mkdirSync } from 'node:fs';
import { RwsegCommand } from '../../base-command.js';

export default class SweepPlan extends RwsegCommand {
  static override summary =
    'Expand a pipeline sweep into numbered tasks (sweep-plan.json) and write a cluster job file.';
  static override description =
    "Tasks are the sweep's losses x seeds x folds, numbered 0..N-1 as `pipeline run` orders its runs. Each task " +
    'is one training: `rwseg sweep run-task N` runs it (a Slurm array element, a Kubernetes Indexed Job pod, a Ray ' +
    "task), and `rwseg sweep collect` merges the results. --emit writes the engine's job file beside the plan; " +
    'nothing is submitted. See docs/cluster.md.';
  static override examples = [
    '<%= config.bin %> sweep plan pipelines/paper-comparison.yaml --out runs/paper --emit slurm --time 2:00:00 --gpus 1',
    '<%= config.bin %> sweep plan pipelines/paper-comparison.yaml --set sweep.folds=5 --emit kubernetes --image me/rwseg:1',
    '<%= config.bin %> sweep plan pipelines/paper-comparison.yaml --emit ray --cpus 8 --json',
  ];
  static override args = { file: Args.string({ description: 'pipeline YAML file', required: true }) };
  static override flags = {
    set: Flags.string({ description: 'override a value: key.path=value (repeatable)', multiple: true }),
    out: Flags.string({ description: "output folder of the sweep (overrides the file's output); the plan goes there" }),
    emit: Flags.option({
      options: [...ENGINES],
      description: 'also write the job file of this engine beside the plan',
    })(),
    time: Flags.string({
      description: `time limit per task: minutes, H:MM:SS or D-HH:MM:SS (default ${DEFAULT_RESOURCES.time})`,
    }),
    cpus: Flags.string({ description: `CPU cores per task (default ${DEFAULT_RESOURCES.cpus})` }),
    mem: Flags.string({ description: `memory per task, e.g. 16G or 4000M (default ${DEFAULT_RESOURCES.mem})` }),
    gpus: Flags.string({ description: `GPUs per task (default ${DEFAULT_RESOURCES.gpus})` }),
    partition: Flags.string({ description: "Slurm partition (default: the cluster's)" }),
    image: Flags.string({ description: `container image with rwseg (Kubernetes; default ${DEFAULT_RESOURCES.image})` }),
    'signal-seconds': Flags.string({
      description: `seconds before the time limit that Slurm sends USR1 (checkpoint and requeue); also the Kubernetes grace period (default ${DEFAULT_RESOURCES.signalSeconds}, at most half the time limit)`,
    }),
    parallelism: Flags.string({ description: 'tasks at once (Kubernetes parallelism; default all)' }),
    claim: Flags.string({
      description: 'PersistentVolumeClaim holding the runs folder (Kubernetes; default rwseg-runs)',
    }),
    rwseg: Flags.string({
      description:
        'the command that runs rwseg on the nodes (default: this node and CLI, for a shared filesystem; e.g. "rwseg" or "npx rwseg")',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(SweepPlan);
    const resources = parseResources({
      time: flags.time,
      cpus: flags.cpus,
      mem: flags.mem,
      gpus: flags.gpus,
      partition: flags.partition,
      image: flags.image,
      signalSeconds: flags['signal-seconds'],
      parallelism: flags.parallelism,
    });
    const config = loadPipeline(args.file, flags.set ?? []);
    if (!config.sweep) {
      throw new RwsegError(
        'INVALID_CONFIG',
        `${args.file}: no sweep section: a plan needs sweep.losses (and seeds, folds); run a single pipeline with rwseg pipeline run`,
        { path: 'sweep' },
      );
    }
    // Checked now, not on the first node: every loss resolves in the registry with valid options.
    const registry = await this.loadRegistry(flags.plugin);
    config.sweep.losses.forEach((l, i) => buildLoss(registry, l.loss, `sweep.losses[${i}].loss`));
    const plan = planSweep(config, {
      configFile: args.file,
      set: flags.set ?? [],
      out: flags.out,
      plugins: flags.plugin ?? [],
    });
    const planFile = writeSweepPlan(plan);
    let engineFile: string | undefined;
    if (flags.emit) {
      const rwseg = flags.rwseg
        ? flags.rwseg.split(/\s+/).filter(Boolean)
        : [process.execPath, path.resolve(process.argv[1]!)];
      engineFile = path.join(plan.outDir, engineFileName(flags.emit as Engine));
      writeFileAtomic(engineFile, emitEngineFile(flags.emit as Engine, plan, resources, { planFile, rwseg }));
      if (flags.emit !== 'kubernetes') chmodSync(engineFile, 0o755);
      // sbatch does not create the folder of --output, and a task whose log cannot open fails at once.
      if (flags.emit === 'slurm') mkdirSync(path.join(plan.outDir, 'slurm'), { recursive: true });
    }
    if (!this.jsonEnabled()) {
      this.log(sweepPlanTable(plan));
      this.log(
        `${plan.tasks.length} task(s) in ${planFile}${engineFile ? `; ${flags.emit} job file ${engineFile}` : ''}`,
      );
      if (flags.emit) this.log(submitHint(flags.emit as Engine, engineFile!, planFile));
    }
    return {
      plan: planFile,
      engine: flags.emit,
      engineFile,
      resources,
      tasks: plan.tasks.map(({ config: _c, ...t }) => t),
    };
  }
}

function submitHint(engine: Engine, file: string, planFile: string): string {
  const collect = `then: rwseg sweep collect --plan ${planFile}`;
  if (engine === 'slurm') return `submit: sbatch ${file}; ${collect}`;
  if (engine === 'kubernetes') return `submit: kubectl apply -f ${file}; ${collect}`;
  return `submit: ray job submit --working-dir ${path.dirname(file)} -- python ${path.basename(file)}; ${collect}`;
}
