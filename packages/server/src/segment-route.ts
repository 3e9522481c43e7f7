/**
 * POST /v2/models/{name}[/versions/{v}]/segment: an image in (any single-file format core reads: PNG, JPEG, GIF,
 * BMP, TIFF incl. multi-page, NIfTI, NRRD, MHA, one DICOM file), its label map out in the input's format where
 * rwseg writes it, PNG for a 2D JPEG/GIF/BMP, NIfTI for DICOM (core's labelFormatFor, as `rwseg predict`), on
 * the image's grid (spacing, origin, direction). The segmentation itself is @rwseg/core's inference engine, the
 * code `rwseg predict` runs on the TF.js model: normalization as rwseg.json says, Gaussian-weighted sliding windows
 * at its patchSize (batched through the model's dynamic batcher; whole-image when the model declares no patch and
 * takes any size), slice by slice along its sliceAxis for a 2D model on a 3D volume, argmax, and the stored label
 * values when rwseg.json has them. Only the window predictor differs (onnxruntime here, TF.js there).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ArtifactNormalization } from '@rwseg/core/artifact';
import { OnnxWindowPredictor, segmentImage, type InferenceOptions, type LabelArray } from '@rwseg/core/inference';
import { voxelCount, type Volume } from '@rwseg/core/io';
import { asciiJson } from './header-value.js';
import { HttpError, badRequest } from './http-error.js';
import { decodeImage, encodeLabels, pickFormat } from './image-io.js';
import type { ModelStore, ModelVersion } from './models.js';

export interface SegmentOptions {
  /** Fraction of a patch that neighboring windows share (default 0.5). */
  overlap?: number;
}

/** What the engine takes from a model's rwseg.json: windowing, normalization, slice axis, stored label values. */
interface SegmentSettings {
  readonly windowing: Pick<InferenceOptions, 'mode' | 'patch' | 'sizeGrid'>;
  readonly normalization: ArtifactNormalization;
  readonly sliceAxis: number;
  readonly labelValues?: readonly number[];
}

/**
 * How windows cover an image: the patch (its last r axes), else the model's fixed spatial dims; a model with
 * dynamic spatial dims and no patch runs whole-image, padded to the size grid when one is known.
 */
export function windowingFor(
  inputShape: readonly number[],
  patch: readonly number[] | null | undefined,
  sizeGrid?: readonly number[] | null,
): SegmentSettings['windowing'] {
  const r = inputShape.length - 2;
  if (patch && patch.length >= r)
    return { mode: 'sliding-window', patch: patch.slice(patch.length - r).map(Math.round) };
  const spatial = inputShape.slice(1, -1);
  if (spatial.every((d) => d > 0)) return { mode: 'sliding-window', patch: spatial };
  return {
    mode: 'whole-image',
    ...(sizeGrid && sizeGrid.length >= r ? { sizeGrid: sizeGrid.slice(sizeGrid.length - r) } : {}),
  };
}

/** From the model's artifact (rwseg.json, core's reader); a folder without one: raw intensities, class indices. */
function settingsFor(mv: ModelVersion, inputShape: readonly number[]): SegmentSettings {
  const artifact = mv.model.metadata.artifact;
  return {
    windowing: windowingFor(inputShape, artifact?.patchSize, artifact?.sizeGrid),
    normalization: mv.model.metadata.normalization,
    sliceAxis: artifact?.sliceAxis ?? 0,
    ...(artifact?.labelValues ? { labelValues: artifact.labelValues } : {}),
  };
}

export async function segmentVolume(
  mv: ModelVersion,
  volume: Volume,
  options: SegmentOptions & { timeoutMs?: number } = {},
): Promise<{ labels: LabelArray; shape: readonly number[] }> {
  await mv.ensureReady();
  const inputName = mv.model.metadata.input ?? mv.inputs[0]?.name;
  const outputName = mv.model.metadata.output ?? mv.outputs[0]?.name;
  const input = mv.inputs.find((i) => i.name === inputName);
  if (!input || !outputName || mv.inputs.length !== 1)
    throw new HttpError(400, `model '${mv.label}' is not a single-input segmentation model; use /infer`);
  if (input.datatype !== 'FP32')
    throw new HttpError(
      400,
      `model '${mv.label}' takes ${input.datatype}; the segment route needs an FP32 image input`,
    );
  const r = input.shape.length - 2;
  if (r < 1)
    throw new HttpError(
      400,
      `model '${mv.label}' input '${input.name}' has shape [${input.shape.join(',')}]; expected [N, ...spatial, C]`,
    );
  const spatial = volume.channels ? volume.shape.slice(0, -1) : volume.shape;
  if (voxelCount(spatial) === 0) throw badRequest('the image is empty');
  const predictor = new OnnxWindowPredictor({
    run: (feeds, fetches) => mv.infer(feeds, fetches, options.timeoutMs),
    input: input.name,
    output: outputName,
    inputDims: input.shape,
  });
  const settings = settingsFor(mv, input.shape);
  const result = await segmentImage(predictor, volume, {
    ...settings.windowing,
    normalization: settings.normalization,
    overlap: options.overlap,
    batchSize: mv.maxBatchSize,
    sliceAxis: settings.sliceAxis,
    imageName: 'the image',
    ...(settings.labelValues ? { labelValues: settings.labelValues } : {}),
  });
  return { labels: result.labels, shape: result.shape };
}

export function registerSegmentRoutes(
  app: FastifyInstance,
  store: ModelStore,
  options: SegmentOptions & { requestTimeoutMs?: number },
): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { name, version } = request.params as { name: string; version?: string };
    const mv = store.get(name, version);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (body.length === 0)
      throw badRequest('empty body: POST an image (PNG, JPEG, TIFF, NIfTI, NRRD, MHA, DICOM, ...)');
    const query = request.query as Record<string, string | undefined>;
    const format = pickFormat(body, request.headers['content-type'], query.format, query.filename);
    const input = await decodeImage(body, format);
    const { volume } = input;
    const { labels, shape } = await segmentVolume(mv, volume, { ...options, timeoutMs: options.requestTimeoutMs });
    // The image's geometry, so the labels overlay it in another tool (orientation where the format has one).
    const orientation = volume.orientation?.direction.length === shape.length ? volume.orientation : undefined;
    const out = await encodeLabels(
      {
        data: labels,
        shape,
        spacing: volume.spacing.slice(volume.spacing.length - shape.length),
        ...(orientation ? { orientation } : {}),
      },
      input,
      format,
    );
    reply.type(out.contentType);
    reply.header('Content-Disposition', `attachment; filename="${out.filename}"`);
    reply.header('X-Rwseg-Classes', asciiJson(mv.model.metadata.classes));
    return reply.send(out.bytes);
  };
  app.post('/v2/models/:name/segment', handler);
  app.post('/v2/models/:name/versions/:version/segment', handler);
}
