import { Flags } from '@oclif/core';
import { BACKEND_CHOICES, createProgressWriter, loadPipeline, RwsegError, runPipelineConfig } from '@rwseg/core';
import { RwsegCommand } from '../base-command.js';
import { describeResult, exportRuns, summariseResult } from './pipeline/run.js';

export default class Train extends RwsegCommand {
  static override summary = 'Train a U-Net: the data, model and schedule of a pipeline file, with flags for the usual knobs.';
  static override description =
    'Trains one run (a pipeline file without its sweep). Flags override the file; any other value with --set key.path=value. Kill it any time: --resume continues from the last checkpoint, losing at most the current epoch.';
  static override examples = [
    '<%= config.bin %> train --config pipelines/quickstart.yaml --epochs 20 --out runs/rrw-dice',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --loss dice --lr 0.001 --backend wasm',
    '<%= config.bin %> train --config pipelines/quickstart.yaml --out runs/rrw-dice --resume',
  ];
  static override flags = {
    config: Flags.string({ description: 'pipeline YAML with dataset, model, loss and training sections', required: true }),
    out: Flags.string({ description: 'output folder for this run' }),
    loss: Flags.string({ description: 'loss name (replaces the file\'s loss section), e.g. rrw, dice, cross-entropy' }),
    epochs: Flags.integer({ min: 1 }),
    iterations: Flags.integer({ min: 1, description: 'iterations per epoch' }),
    'batch-size': Flags.integer({ min: 1 }),
    lr: Flags.string({ description: 'initial learning rate' }),
    seed: Flags.integer(),
    set: Flags.string({ description: 'override a value: key.path=value (repeatable)', multiple: true }),
    backend: Flags.option({ options: BACKEND_CHOICES as string[] })(),
    resume: Flags.boolean({ description: 'continue from the newest checkpoint in the output folder' }),
  };

  async run() {
    const { flags } = await this.parse(Train);
    const set = [
      ...(flags.loss ? [`loss=${flags.loss}`] : []),
      ...(flags.epochs ? [`training.epochs=${flags.epochs}`] : []),
      ...(flags.iterations ? [`training.iterationsPerEpoch=${flags.iterations}`] : []),
      ...(flags['batch-size'] ? [`training.batchSize=${flags['batch-size']}`] : []),
      ...(flags.lr ? [`training.learningRate=${flags.lr}`] : []),
      ...(flags.seed !== undefined ? [`seed=${flags.seed}`] : []),
      ...(flags.set ?? []),
    ];
    const config = loadPipeline(flags.config, set);
    if (config.sweep) {
      throw new RwsegError('INVALID_CONFIG', `${flags.config} has a sweep section: run it with 'rwseg pipeline run ${flags.config}', or remove the sweep to train one run`, {});
    }
    const registry = await this.loadRegistry(flags.plugin);
    const progress = createProgressWriter(process.stderr);
    const result = await runPipelineConfig(config, {
      configFile: flags.config,
      out: flags.out,
      backend: flags.backend as never,
      resume: flags.resume,
      registry,
      plugins: flags.plugin,
      logger: this.logger,
      onEvent: (_run, event) => progress(event),
    });
    const onnx = await exportRuns(config, result, this.logger);
    if (!this.jsonEnabled()) this.log(describeResult(result));
    return { ...summariseResult(result).runs[0], onnx: onnx[0] };
  }
}
