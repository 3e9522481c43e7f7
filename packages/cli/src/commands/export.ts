import { Flags } from '@oclif/core';
import path from 'node:path';
import { silentLogger, useBackend } from '@rwseg/core';
import { assertSafeName } from '@rwseg/core/artifact';
import { exportRun } from '@rwseg/core/export';
import { RwsegCommand } from '../base-command.js';

export default class Export extends RwsegCommand {
  static override summary =
    'Export a trained run to ONNX (model.onnx + rwseg.json) or a Triton model repository, checked against TF.js.';
  static override description =
    "Converts <run>/model with @rwseg/tfjs-to-onnx, compares onnxruntime with TF.js on random inputs and on one real validation image (the run's first validation case, or --image), and fails with exit 2 when the max abs error is above --tolerance. rwseg.json is the model's artifact (classes, normalization, patch size, size grid, spacing, slice axis, label values, the loss and config that made it, its metrics) plus the export: the ONNX file's sha256, its inputs and outputs, the parity. Every file is written under a temporary name and renamed into place, so a killed export leaves the old model or the new one; a target that holds a model needs --force (a Triton model then gets the next version number). Only the full-resolution output of a deep-supervision model is exported.";
  static override examples = [
    '<%= config.bin %> export --model runs/quickstart --out exports/quickstart',
    '<%= config.bin %> export --model runs/quickstart --out model_repository --format triton --name quickstart --json',
    '<%= config.bin %> serve --models model_repository',
  ];
  static override flags = {
    model: Flags.string({ required: true, description: 'run folder (holding model/) or its model/ subfolder' }),
    out: Flags.string({ required: true, description: 'output folder (for triton: the model repository)' }),
    format: Flags.option({
      options: ['onnx', 'triton'] as const,
      default: 'onnx',
      description: 'onnx: <out>/model.onnx; triton: <out>/<name>/config.pbtxt and <out>/<name>/1/model.onnx',
    })(),
    opset: Flags.integer({ default: 17, min: 17, max: 21, description: 'ONNX opset' }),
    name: Flags.string({
      description:
        "Triton model name (default: the run's pipeline name): letters, digits, '_', '.' and '-', as the server accepts",
    }),
    force: Flags.boolean({
      description:
        'replace a model the target already holds (triton: written as the next version, older versions removed)',
    }),
    'max-batch-size': Flags.integer({ min: 0, description: 'Triton max_batch_size (default 8)' }),
    parity: Flags.boolean({
      default: true,
      allowNo: true,
      description: 'compare onnxruntime with TF.js before writing (--no-parity skips it)',
    }),
    tolerance: Flags.string({ default: '1e-4', description: 'largest max abs error the parity check accepts' }),
    image: Flags.string({ description: 'a PNG/NIfTI image to add to the parity check (normalized as in training)' }),
    'self-contained': Flags.boolean({
      default: false,
      description:
        'raw whole images of any size in: normalization and padding to the size grid inside the graph, ' +
        'probabilities and uint8 labels out (for Triton / KServe clients with no pre-processing)',
    }),
  };

  async run() {
    const { flags } = await this.parse(Export);
    const tolerance = Number(flags.tolerance);
    if (!(tolerance > 0)) this.error(`--tolerance must be a positive number, got '${flags.tolerance}'`, { exit: 2 });
    if (flags.name !== undefined) assertSafeName(flags.name, 'model name (--name)');
    // The parity reference is TF.js on the exact cpu backend, whatever backend trained the model.
    await useBackend('cpu', { logger: silentLogger });
    const result = await exportRun(flags.model, flags.out, {
      format: flags.format,
      opset: flags.opset,
      ...(flags.name ? { name: flags.name } : {}),
      ...(flags['max-batch-size'] !== undefined ? { maxBatchSize: flags['max-batch-size'] } : {}),
      parity: flags.parity,
      tolerance,
      ...(flags.image ? { image: flags.image } : {}),
      force: flags.force,
      selfContained: flags['self-contained'],
      logger: this.logger,
    });
    if (!this.jsonEnabled()) {
      this.log(`wrote ${result.files.map(shortPath).join(', ')}`);
      if (result.droppedHeads > 0)
        this.log(
          `  deep supervision: exported the full-resolution head, left out ${result.droppedHeads} coarser head(s)`,
        );
      if (result.parity) {
        for (const c of result.parity.cases)
          this.log(
            `  parity ${c.label} [${c.inputShapes.join('; ')}]: max abs error ${c.maxAbsError.toExponential(2)}, ` +
              `max rel error ${c.maxRelError.toExponential(2)}`,
          );
        this.log(`  parity passed (tolerance ${result.parity.tolerance.abs})`);
      } else this.log('  parity not checked (--no-parity)');
      if (result.format === 'triton') this.log(`serve it: rwseg serve --models ${shortPath(result.outDir)}`);
    }
    return result;
  }
}

/** Relative to the working directory when inside it, else absolute. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}
