import { Flags } from '@oclif/core';
import { computeSegmentationMetrics, loadDataset, loadModelDir, loadPipeline, useBackend, validate, BACKEND_CHOICES } from '@rwseg/core';
import { RwsegCommand } from '../base-command.js';

export default class Evaluate extends RwsegCommand {
  static override summary = 'Evaluate a trained model on a pipeline\'s validation cases: per-class Dice (and distances) per case, NaN-aware means.';
  static override examples = ['<%= config.bin %> evaluate --model runs/quickstart/model --data pipelines/quickstart.yaml --json'];
  static override flags = {
    model: Flags.string({ description: 'model folder written by training (<run>/model)', required: true }),
    data: Flags.string({ description: 'pipeline YAML whose dataset and preprocessing give the cases', required: true }),
    set: Flags.string({ description: 'override a pipeline value: key.path=value (repeatable)', multiple: true }),
    overlap: Flags.string({ description: 'sliding-window overlap in [0, 1) (default: the pipeline\'s)' }),
    backend: Flags.option({ options: BACKEND_CHOICES as string[], default: 'auto' })(),
  };

  async run() {
    const { flags } = await this.parse(Evaluate);
    const backend = await useBackend(flags.backend as never, { logger: this.logger });
    const config = loadPipeline(flags.data, flags.set ?? []);
    const { model } = await loadModelDir(flags.model);
    const data = await loadDataset(config);
    const { result } = await validate(model, data.validation, {
      patch: config.preprocessing.patch,
      overlap: flags.overlap === undefined ? config.evaluation.overlap : Number(flags.overlap),
      numClasses: data.numClasses,
      metrics: computeSegmentationMetrics,
    });
    if (!this.jsonEnabled()) {
      for (const c of result.classes) this.log(`class ${c.classIndex}: Dice ${c.dice.mean.toFixed(3)} ± ${c.dice.sd.toFixed(3)}, HD95 ${c.hd95.mean.toFixed(2)} ± ${c.hd95.sd.toFixed(2)} mm over ${c.dice.n} case(s)`);
      this.log(`mean foreground Dice ${result.meanDice.toFixed(3)} (${result.cases.length} cases, backend ${backend})`);
    }
    return { backend, meanDice: result.meanDice, classes: result.classes, cases: result.cases };
  }
}
