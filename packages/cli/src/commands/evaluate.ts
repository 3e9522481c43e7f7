import { Flags } from '@oclif/core';
import { RwsegError, BACKEND_CHOICES } from '@rwseg/core';
import { applyNormalization } from '@rwseg/core/artifact';
import { openDataset } from '@rwseg/core/data';
import { computeSegmentationMetrics } from '@rwseg/core/metrics';
import { loadDataset, loadPipeline, loadValidationCases } from '@rwseg/core/pipeline';
import { createCaseProgressWriter, loadModelDir, validate, type ValidationCase } from '@rwseg/core/training';
import { RwsegCommand } from '../base-command.js';
import { overlapFlag } from '../label-input.js';
import { LABEL_MAP_HELP, parseLabelMapFlag } from '../label-map-flag.js';
import { modelSettings } from '../model-settings.js';

export default class Evaluate extends RwsegCommand {
  static override summary =
    "Evaluate a trained model on a dataset folder or a pipeline's validation cases: per-class Dice (and distances) per case, NaN-aware means.";
  static override description =
    "With a pipeline YAML, the cases are its validation split, preprocessed as it says. With a dataset folder (MSD / nnU-Net, or images/ + labels/), every labeled case is evaluated, normalized as the model's run was (its config.json beside the model folder; z-score otherwise) and its labels read through the run's label map unless --label-map is given. Predictions come from the inference engine validation and `rwseg predict` run: Gaussian-weighted sliding windows at the model's patch, slice by slice for a 2D model on 3D cases.";
  static override examples = [
    '<%= config.bin %> evaluate --model runs/quickstart/model --data pipelines/quickstart.yaml --json',
    '<%= config.bin %> evaluate --model runs/hippocampus/model --data data/Task04_Hippocampus',
    '<%= config.bin %> evaluate --model runs/isbi/model --data data/isbi2012 --label-map \'{"0": 1, "255": 0}\'',
  ];
  static override flags = {
    model: Flags.string({ description: 'model folder written by training (<run>/model)', required: true }),
    data: Flags.string({
      description: 'a pipeline YAML, or a dataset folder (MSD / nnU-Net, or images/ + labels/)',
      required: true,
    }),
    set: Flags.string({ description: 'pipeline YAML: override a value, key.path=value (repeatable)', multiple: true }),
    'label-map': Flags.string({ description: `dataset folder pairs: ${LABEL_MAP_HELP} (default: the model's)` }),
    'num-classes': Flags.integer({
      min: 2,
      aliases: ['classes'],
      description: 'dataset folder pairs without --label-map: classes stored as 0..K-1 (also --classes)',
    }),
    limit: Flags.integer({ min: 1, description: 'dataset folder: evaluate the first N labeled cases only' }),
    overlap: Flags.string({ description: "sliding-window overlap in [0, 1) (default: the pipeline's, else 0.5)" }),
    'slice-axis': Flags.integer({
      min: 0,
      max: 2,
      description:
        "a 2D model on 3D cases: the axis to predict slices along (default: the pipeline's or the model run's preprocessing.sliceAxis, else 0)",
    }),
    backend: Flags.option({ options: BACKEND_CHOICES as string[], default: 'auto' })(),
    'progress-interval': Flags.integer({
      min: 0,
      default: 10,
      description: 'off a terminal: seconds between progress lines (0: one per case)',
    }),
  };

  async run() {
    const { flags } = await this.parse(Evaluate);
    const overlapOverride = overlapFlag('overlap', flags.overlap);
    const backend = await this.selectBackend(flags.backend as never);
    const { model } = await loadModelDir(flags.model);
    const modelPatch = model.inputs[0]!.shape.slice(1, -1) as number[];
    const modelClasses = model.outputs[0]!.shape.at(-1) as number;
    const settings = modelSettings(flags.model, modelClasses, this.logger);
    let cases: ValidationCase[];
    let numClasses: number;
    let patch: readonly number[];
    let overlap = 0.5;
    let sliceAxis = settings.sliceAxis;
    if (/\.ya?ml$/i.test(flags.data)) {
      const config = loadPipeline(flags.data, flags.set ?? []);
      const data = await loadDataset(config);
      cases = [...data.validation];
      numClasses = data.numClasses;
      patch = config.preprocessing.patch;
      if (patch.join() !== modelPatch.join()) {
        throw new RwsegError(
          'INVALID_INPUT',
          `${flags.data}: preprocessing.patch [${patch.join(', ')}] is not the input patch [${modelPatch.join(', ')}] of the model in ${flags.model}`,
          { data: flags.data, model: flags.model },
        );
      }
      overlap = config.evaluation.overlap;
      sliceAxis = config.preprocessing.sliceAxis;
    } else {
      // The run's label map unless the user gives one: the model's classes mean what its training labels meant.
      const labelMap = flags['label-map'] ? parseLabelMapFlag(flags['label-map']) : settings.labelMap;
      const info = openDataset(flags.data, {
        labelMapping: labelMap,
        numClasses: flags['num-classes'] ?? (labelMap ? undefined : modelClasses),
      });
      const refs = info.training
        .filter((r) => r.label !== undefined || info.kind === 'synthetic')
        .slice(0, flags.limit);
      if (refs.length === 0)
        throw new RwsegError('INVALID_INPUT', `${flags.data}: no labeled cases to evaluate`, { file: flags.data });
      // Loaded raw, then normalized as the model says (applyNormalization: per image as training's loader did).
      const raw = await loadValidationCases(info, refs, { normalization: 'none' });
      cases = raw.map((c) => ({
        ...c,
        image: {
          ...c.image,
          data: applyNormalization(c.image.data, c.image.channels ?? 1, settings.artifact.normalization),
        },
      }));
      numClasses = info.numClasses;
      patch = modelPatch;
    }
    const rank = cases[0]!.image.shape.length - (cases[0]!.image.channels ? 1 : 0);
    // A 2D model on 3D cases predicts them slice by slice (the inference engine); any other mismatch is an error.
    if (rank !== modelPatch.length && rank !== modelPatch.length + 1) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${flags.data} holds ${rank}D images but the model in ${flags.model} is ${modelPatch.length}D (input patch [${modelPatch.join(', ')}]); it applies to ${modelPatch.length}D images, or ${modelPatch.length + 1}D slice by slice`,
        { data: flags.data, model: flags.model },
      );
    }
    if (numClasses !== modelClasses) {
      throw new RwsegError(
        'INVALID_INPUT',
        `${flags.data} has ${numClasses} classes but the model in ${flags.model} predicts ${modelClasses}`,
        { data: flags.data, model: flags.model },
      );
    }
    // Case k of N with ETA on stderr (a bar on a terminal, a line every interval elsewhere); --log-level warn
    // hushes it.
    const quiet = this.logLevel() === 'warn';
    const interval = flags['progress-interval'];
    const progressOptions = { label: 'evaluate', intervalSeconds: interval };
    const onCase = quiet ? undefined : createCaseProgressWriter(process.stderr, cases.length, progressOptions);
    const { result } = await validate(model, cases, {
      onCase,
      patch,
      overlap: overlapOverride ?? overlap,
      sliceAxis: flags['slice-axis'] ?? sliceAxis,
      numClasses,
      metrics: computeSegmentationMetrics,
    });
    if (!this.jsonEnabled()) {
      for (const c of result.classes)
        this.log(
          `class ${c.classIndex}: Dice ${c.dice.mean.toFixed(3)} ± ${c.dice.sd.toFixed(3)}, HD95 ${c.hd95.mean.toFixed(2)} ± ${c.hd95.sd.toFixed(2)} mm over ${c.dice.n} case(s)`,
        );
      this.log(`mean foreground Dice ${result.meanDice.toFixed(3)} (${result.cases.length} cases, backend ${backend})`);
    }
    return { backend, meanDice: result.meanDice, classes: result.classes, cases: result.cases };
  }
}
