/**
 * POST /v2/models/{name}[/versions/{v}]/segment: an image in (PNG, NIfTI .nii or .nii.gz), its label map out
 * in the same format. The image is normalised as the model's rwseg.json says, run through sliding-window
 * inference (Gaussian-weighted overlapping patches, batched through the model's dynamic batcher) and
 * reduced to labels by argmax over classes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { voxelCount, type Volume } from '@rwseg/core';
import { asciiJson } from './header-value.js';
import { HttpError, badRequest } from './http-error.js';
import { decodeImage, encodeLabels, IMAGE_CONTENT_TYPES, pickFormat } from './image-io.js';
import { normalize } from './model-metadata.js';
import type { ModelStore, ModelVersion } from './models.js';
import { argmaxLabels, slidingWindowProbabilities } from './sliding-window.js';

export interface SegmentOptions {
  /** Fraction of a patch that neighbouring windows share (default 0.5). */
  overlap?: number;
}

/** The patch the model sees: rwseg.json's patchSize, else the model's fixed spatial dims, else the whole image. */
export function patchFor(mv: ModelVersion, inputShape: readonly number[], imageWindow: readonly number[]): number[] {
  const r = inputShape.length - 2;
  const fromMeta = mv.model.metadata.patchSize;
  if (fromMeta && fromMeta.length >= r) return fromMeta.slice(fromMeta.length - r).map(Math.round);
  return imageWindow.map((size, a) => (inputShape[1 + a] > 0 ? inputShape[1 + a] : size));
}

export async function segmentVolume(mv: ModelVersion, volume: Volume, options: SegmentOptions & { timeoutMs?: number } = {}): Promise<{ labels: Uint8Array | Uint16Array; shape: number[] }> {
  await mv.ensureReady();
  const inputName = mv.model.metadata.input ?? mv.inputs[0]?.name;
  const outputName = mv.model.metadata.output ?? mv.outputs[0]?.name;
  const input = mv.inputs.find((i) => i.name === inputName);
  if (!input || !outputName || mv.inputs.length !== 1) throw new HttpError(400, `model '${mv.label}' is not a single-input segmentation model; use /infer`);
  if (input.datatype !== 'FP32') throw new HttpError(400, `model '${mv.label}' takes ${input.datatype}; the segment route needs an FP32 image input`);
  const r = input.shape.length - 2;
  if (r < 1) throw new HttpError(400, `model '${mv.label}' input '${input.name}' has shape [${input.shape.join(',')}]; expected [N, ...spatial, C]`);
  const channels = volume.channels ?? 1;
  const spatial = volume.channels ? volume.shape.slice(0, -1) : [...volume.shape];
  const modelChannels = input.shape[input.shape.length - 1];
  if (modelChannels > 0 && modelChannels !== channels) throw badRequest(`the image has ${channels} channel(s); model '${mv.label}' expects ${modelChannels}`);
  if (spatial.length < r) throw badRequest(`the image has ${spatial.length} spatial axes; model '${mv.label}' needs ${r}`);
  if (voxelCount(spatial) === 0) throw badRequest('the image is empty');
  const data = normalize(volume.data, channels, mv.model.metadata.normalization);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw badRequest(`the image holds a non-finite value at voxel ${Math.floor(i / channels)}`);
  const window = spatial.slice(spatial.length - r);
  const patch = patchFor(mv, input.shape, window);
  const { probabilities, classes } = await slidingWindowProbabilities(
    data,
    spatial,
    channels,
    patch,
    async (patches, n, p) => {
      const out = await mv.infer({ [input.name]: { type: 'float32', dims: [n, ...p, channels], data: patches } }, [outputName], options.timeoutMs);
      const t = out[outputName];
      const classes = t.dims[t.dims.length - 1];
      if (t.type !== 'float32' || t.dims.length !== r + 2) throw new HttpError(500, `output '${outputName}' of ${mv.label} has dims [${t.dims.join(',')}] (${t.type}); expected [N, ...spatial, K] float32`);
      return { data: t.data as Float32Array, classes };
    },
    { overlap: options.overlap, batchSize: mv.maxBatchSize },
  );
  return { labels: argmaxLabels(probabilities, classes), shape: spatial };
}

export function registerSegmentRoutes(app: FastifyInstance, store: ModelStore, options: SegmentOptions & { requestTimeoutMs?: number }): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { name, version } = request.params as { name: string; version?: string };
    const mv = store.get(name, version);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (body.length === 0) throw badRequest('empty body: POST a PNG or NIfTI image');
    const query = request.query as Record<string, string | undefined>;
    const format = pickFormat(body, request.headers['content-type'], query.format, query.filename);
    const { volume, niftiHeader } = await decodeImage(body, format);
    const { labels, shape } = await segmentVolume(mv, volume, { ...options, timeoutMs: options.requestTimeoutMs });
    const out = await encodeLabels({ data: labels, shape, spacing: volume.spacing.slice(volume.spacing.length - shape.length) }, format, niftiHeader);
    reply.type(IMAGE_CONTENT_TYPES[format]);
    reply.header('X-Rwseg-Classes', asciiJson(mv.model.metadata.classes));
    return reply.send(out);
  };
  app.post('/v2/models/:name/segment', handler);
  app.post('/v2/models/:name/versions/:version/segment', handler);
}
