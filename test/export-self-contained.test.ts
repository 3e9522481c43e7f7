/**
 * A self-contained export of rwseg's own U-Net (core's buildUNet: instance normalization, LeakyReLU, transposed
 * convolutions, a fixed training patch) run in onnxruntime on RAW images whose size is neither the patch nor on the
 * size grid, against what rwseg does in whole-image mode: core's normalizeChannels (the training preprocessing),
 * zeros up to the grid split around the image as the inference engine splits them (floor(extra / 2) before), the
 * TF.js network, cropped back, first-max arg-max. The
 * normalization comes from the metadata's normalization record, as `rwseg export` passes it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import type * as tfl from '@tensorflow/tfjs-layers';
import ort from 'onnxruntime-node';
import { tf, useBackend } from '@rwseg/core';
import { normalizeChannels, type Normalization } from '@rwseg/core/data';
import { buildUNet } from '@rwseg/core/training';
import { exportModel, type ModelMetadataInput } from '@rwseg/tfjs-to-onnx';

test.before(async () => {
  await useBackend('cpu');
});

/** Deterministic raw intensities: a CT-like range with a bright disc, a gradient, and a few outliers. */
function rawImage(spatial: number[], seed: number): Float32Array {
  const n = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const x = i % spatial[spatial.length - 1]!;
    const y = Math.floor(i / spatial[spatial.length - 1]!) % spatial[spatial.length - 2]!;
    const disc = (x - 20) ** 2 + (y - 15) ** 2 < 100 ? 900 : 0;
    out[i] = -200 + disc + 8 * x + 60 * (s / 2 ** 31);
  }
  out[3] = 3071;
  out[n - 5] = -3024;
  return out;
}

/** rwseg's whole-image result for a raw [1, ...spatial, 1] image: probabilities and labels, in TF.js. */
function wholeImageReference(
  model: tfl.LayersModel,
  raw: Float32Array,
  spatial: number[],
  grid: number,
  normalization: Normalization,
): { probs: Float32Array; labels: Uint8Array } {
  const data = Float32Array.from(raw);
  normalizeChannels(data, 1, { normalization, percentiles: [0.5, 99.5] });
  return tf.tidy(() => {
    const shape = [1, ...spatial, 1];
    // The inference engine's whole-image padding: floor(extra / 2) zeros before each axis, the rest after.
    const before = spatial.map((s) => Math.floor(((grid - (s % grid)) % grid) / 2));
    const pads = [[0, 0], ...spatial.map((s, a) => [before[a]!, ((grid - (s % grid)) % grid) - before[a]!]), [0, 0]];
    const out = model.apply(tf.pad(tf.tensor(data, shape), pads as [number, number][])) as tf.Tensor;
    const cropped = tf.slice(out, [0, ...before, 0], [1, ...spatial, -1]);
    const probs = cropped.dataSync() as Float32Array;
    const classes = out.shape[out.shape.length - 1]!;
    const labels = new Uint8Array(probs.length / classes);
    for (let v = 0; v < labels.length; v++) {
      for (let k = 1; k < classes; k++) if (probs[v * classes + k]! > probs[v * classes + labels[v]!]!) labels[v] = k;
    }
    return { probs, labels };
  });
}

const cases = [
  { dims: 2, patch: [32, 32], depth: 3, spatial: [45, 61], grid: 4 },
  { dims: 3, patch: [8, 8, 8], depth: 3, spatial: [5, 9, 11], grid: 4 },
] as const;

for (const c of cases) {
  for (const normalization of ['zscore', 'percentile'] as const) {
    const title =
      `${c.dims}-D rwseg U-Net (patch ${c.patch.join('x')}), ${normalization}: the self-contained export on a raw ` +
      `${c.spatial.join('x')} image equals rwseg's whole-image inference`;
    test(title, async (t) => {
      const model = buildUNet({ dims: c.dims, depth: c.depth, baseFilters: 4, numClasses: 3, seed: 5 }, c.patch);
      const out = mkdtempSync(path.join(tmpdir(), 'rwseg-self-contained-'));
      const extra = normalization === 'zscore' ? {} : { percentiles: [0.5, 99.5] };
      const recorded = { method: normalization, scope: 'per-image-and-channel', ...extra };
      const result = await exportModel({
        model,
        outDir: out,
        // Both spellings: rwseg.json 1 says `normalisation`, the model artifact `normalization`; either is read.
        metadata: { normalisation: recorded, normalization: recorded } as unknown as ModelMetadataInput,
        selfContained: true,
        parity: { randomCases: 1 },
      });
      t.deepEqual(result.selfContained!.sizeGrid, new Array<number>(c.dims).fill(c.grid));
      const raw = rawImage([...c.spatial], 17);
      const session = await ort.InferenceSession.create(result.onnxPath);
      const y = await session.run({ input: new ort.Tensor('float32', raw, [1, ...c.spatial, 1]) });
      await session.release();
      const want = wholeImageReference(model, raw, [...c.spatial], c.grid, normalization);
      const got = y['output']!.data as Float32Array;
      let err = 0;
      for (let i = 0; i < want.probs.length; i++) err = Math.max(err, Math.abs(got[i]! - want.probs[i]!));
      t.log(`max abs error of the probabilities ${err.toExponential(2)}`);
      t.true(err < 1e-5, `max abs error ${err}`);
      t.deepEqual(y['labels']!.dims, [1, ...c.spatial]);
      t.deepEqual(Array.from(y['labels']!.data as Uint8Array), Array.from(want.labels));
      t.true(new Set(want.labels).size > 1, 'more than one class in the label map');
    });
  }
}
