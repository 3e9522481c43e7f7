import { Args, Flags } from '@oclif/core';
import { BACKEND_CHOICES } from '@rwseg/core';
import { listenForStopSignals, loadPipeline, runPipelineConfig, type PipelineResult } from '@rwseg/core/pipeline';
import { createProgressWriter } from '@rwseg/core/training';
import { RwsegCommand } from '../../base-command.js';

/** The run-folder flags `rwseg train` and `rwseg pipeline run` share (the policy is core's prepareRunFolder). */
export const runFolderFlags = {
  resume: Flags.boolean({
    description:
      "continue from the newest checkpoint in the output folder; stops (exit 2) when there is none or the settings differ from the run's, unless --force",
  }),
  'resume-from': Flags.string({
    description: 'continue from this checkpoint file (e.g. <out>/checkpoints/epoch-0003.ckpt, or best.ckpt)',
    exclusive: ['resume'],
  }),
  force: Flags.boolean({
    description:
      'start over in a folder that holds a run (its checkpoints and model are removed), or resume despite ' +
      'different settings',
  }),
};

/** --resume / --resume-from as the pipeline's `resume` option. */
export function resumeOption(flags: { resume?: boolean; 'resume-from'?: string }): boolean | string | undefined {
  return flags['resume-from'] ?? flags.resume;
}

export default class PipelineRun extends RwsegCommand {
  static override summary =
    'Run a pipeline YAML: data, model, loss, training, evaluation (and a loss x seed sweep if it has one).';
  static override description =
    "Writes a run folder (resolved config, checkpoints, history.jsonl, plots, model with its rwseg.json) to --out or the file's output (default runs/<name>), then runs the file's export section. A folder that holds a run needs --resume or --force. Progress goes to stderr; --json prints the results on stdout.";
  static override examples = [
    '<%= config.bin %> pipeline run pipelines/quickstart.yaml',
    '<%= config.bin %> pipeline run pipelines/quickstart.yaml --set training.epochs=2 --out runs/try --json',
    '<%= config.bin %> pipeline run pipelines/msd-hippocampus.yaml --set dataset.root=PATH/msd-task04-hippocampus',
  ];
  static override args = { file: Args.string({ description: 'pipeline YAML file', required: true }) };
  static override flags = {
    set: Flags.string({ description: 'override a value: key.path=value (repeatable)', multiple: true }),
    out: Flags.string({ description: "output folder (overrides the file's output)" }),
    backend: Flags.option({
      options: BACKEND_CHOICES as string[],
      description: "TF.js backend (default: the file's, else auto)",
    })(),
    ...runFolderFlags,
  };

  async run() {
    const { args, flags } = await this.parse(PipelineRun);
    const registry = await this.loadRegistry(flags.plugin);
    const writers = new Map<string, ReturnType<typeof createProgressWriter>>();
    const config = loadPipeline(args.file, flags.set ?? []);
    // SIGUSR1/SIGTERM: the running run checkpoints at its next step, the sweep ends there, exit 75/143 (--resume).
    const signals = listenForStopSignals(this.logger);
    const result = await runPipelineConfig(config, {
      stop: signals.stop,
      configFile: args.file,
      out: flags.out,
      backend: flags.backend as never,
      resume: resumeOption(flags),
      force: flags.force,
      services: this.services(flags.plugin),
      registry,
      plugins: flags.plugin,
      logger: this.logger,
      onEvent: (run, event) => {
        if (!writers.has(run))
          writers.set(
            run,
            createProgressWriter(process.stderr, run, { intervalSeconds: config.training.progressIntervalSeconds }),
          );
        writers.get(run)!(event);
      },
    }).finally(() => signals.dispose());
    if (result.stopped) process.exitCode = signals.exitCode();
    if (!this.jsonEnabled()) this.log(describeResult(result));
    return { ...summarizeResult(result), onnx: result.runs.flatMap((r) => (r.export ? [r.export.onnx] : [])) };
  }
}

/** The JSON-able part of a pipeline result: per run, the best and final validation and the stability figure. */
export function summarizeResult(result: PipelineResult) {
  return {
    name: result.name,
    outDir: result.outDir,
    backend: result.backend,
    backendInfo: result.backendInfo,
    runs: result.runs.map((r) => ({
      name: r.name,
      loss: r.lossName,
      seed: r.seed,
      ...(r.fold !== undefined ? { fold: r.fold } : {}),
      outDir: r.outDir,
      ...(r.result.stopped ? { stopped: r.result.stopped } : {}),
      epochsRun: r.result.epochsRun,
      bestEpoch: r.result.bestEpoch,
      bestDice: r.result.bestDice,
      modelEpoch: r.result.modelEpoch,
      finalLoss: r.result.history.at(-1)?.loss,
      validation: r.result.finalValidation && {
        meanDice: r.result.finalValidation.meanDice,
        classes: r.result.finalValidation.classes,
        ...(r.result.finalValidation.loss !== undefined ? { loss: r.result.finalValidation.loss } : {}),
      },
      stability: r.result.stability,
    })),
    ...(result.stopped ? { stopped: result.stopped } : {}),
    comparison: result.comparison?.map((c) => ({
      loss: c.loss,
      seeds: c.seeds,
      rows: c.rows,
      pooled: { meanDice: c.summary.meanDice, classes: c.summary.classes },
    })),
    pairedTests: result.pairedTests,
  };
}

export function describeResult(result: PipelineResult): string {
  const lines: string[] = [];
  const adapter = result.backendInfo?.details.adapter as { description?: string } | undefined;
  if (adapter?.description) lines.push(`webgpu adapter: ${adapter.description}`);
  for (const r of result.runs) {
    const v = r.result.finalValidation;
    if (r.result.stopped) {
      const at = r.result.stopped;
      lines.push(
        `${r.name}: stopped at epoch ${at.epoch}, step ${at.iteration} (${at.reason ?? 'stop request'}); --resume continues it from ${at.checkpoint}`,
      );
      continue;
    }
    lines.push(`${r.name}: ${r.result.epochsRun} epoch(s) on ${result.backend}, results in ${r.outDir}`);
    if (r.export) lines.push(`  exported ${r.export.onnx}`);
    if (v) {
      for (const c of v.classes) {
        const hd = Number.isFinite(c.hd95.mean) ? `, HD95 ${c.hd95.mean.toFixed(2)} ± ${c.hd95.sd.toFixed(2)} mm` : '';
        lines.push(
          `  class ${c.classIndex}: Dice ${c.dice.mean.toFixed(3)} ± ${c.dice.sd.toFixed(3)}${hd} (${c.dice.n} cases)`,
        );
      }
      const valLoss = v.loss !== undefined ? `, validation loss ${v.loss.toFixed(4)}` : '';
      lines.push(
        `  model/ holds epoch ${r.result.modelEpoch ?? '?'}${r.result.bestEpoch === r.result.modelEpoch ? ' (best validation Dice)' : ''}: mean foreground Dice ${v.meanDice.toFixed(3)}${valLoss}`,
      );
      const last = r.result.lastEpochValidation;
      if (last)
        lines.push(
          `  last epoch: mean foreground Dice ${last.meanDice.toFixed(3)} (not kept: epoch ${r.result.modelEpoch} ` +
            `was better)`,
        );
    }
    if (r.result.stability)
      lines.push(
        `  stability: ${r.result.stability.drops} Dice drop(s) after warm-up (largest ` +
          `${r.result.stability.largestDrop.toFixed(3)}), final sd ${r.result.stability.finalSd.toFixed(3)}`,
      );
  }
  if (result.comparison) {
    const tests = result.pairedTests
      ? `; paired tests against ${result.pairedTests.reference}: comparison-tests.csv`
      : '';
    lines.push(`comparison table: ${result.outDir}/comparison.md and comparison.csv${tests}`);
  }
  return lines.join('\n');
}
