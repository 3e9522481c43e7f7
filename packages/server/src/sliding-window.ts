/**
 * Sliding-window inference for images larger than the model's patch: windows overlap by a fraction of the
 * patch, each window's softmax output is weighted by a Gaussian centred on the patch (so voxels near a window's
 * edge, which saw little context, count less), and the weighted sum is divided by the summed weights.
 * This is the scheme of nnU-Net (Isensee et al., Nature Methods 2021), sigma = patch / 8 per axis.
 *
 * Layouts: images are row-major [...leading, ...spatial, C] (channels last, as the model's NHWC input);
 * probabilities are [...leading, ...spatial, K]. Leading axes the model does not see (the slices of a 3D
 * volume for a 2D model) are independent windows.
 */

export interface PatchRunner {
  /** Runs `n` patches laid out [n, ...patch, C]; returns [n, ...patch, K] probabilities and K. */
  (patches: Float32Array, n: number, patch: readonly number[]): Promise<{ data: Float32Array; classes: number }>;
}

export interface SlidingWindowOptions {
  /** Fraction of the patch adjacent windows share, in [0, 1). */
  overlap?: number;
  /** Windows per model run. */
  batchSize?: number;
  sigmaScale?: number;
}

/** Window start positions along one axis: evenly spaced, first at 0, last flush with the end. */
export function windowStarts(size: number, patch: number, overlap: number): number[] {
  if (size <= patch) return [0];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const count = Math.ceil((size - patch) / step) + 1;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) starts.push(Math.round((i * (size - patch)) / (count - 1)));
  return starts;
}

/** Separable Gaussian weight over a patch, peak 1, floored so no voxel's weight is zero. */
export function gaussianImportance(patch: readonly number[], sigmaScale = 1 / 8): Float32Array {
  const axes = patch.map((p) => {
    const sigma = Math.max(p * sigmaScale, 1e-3);
    const centre = (p - 1) / 2;
    return Float64Array.from({ length: p }, (_, i) => Math.exp(-((i - centre) ** 2) / (2 * sigma * sigma)));
  });
  const total = patch.reduce((n, p) => n * p, 1);
  const out = new Float32Array(total);
  const coord = new Array(patch.length).fill(0);
  for (let i = 0; i < total; i++) {
    let w = 1;
    for (let a = 0; a < patch.length; a++) w *= axes[a][coord[a]];
    out[i] = Math.max(w, 1e-6);
    for (let a = patch.length - 1; a >= 0; a--) {
      if (++coord[a] < patch[a]) break;
      coord[a] = 0;
    }
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

interface Window {
  slice: number;
  start: number[];
}

/**
 * Probabilities for a whole image. `spatial` is the image's shape without channels; the model sees the last
 * `patch.length` axes. Axes shorter than the patch are zero-padded (after normalisation, zero is the mean).
 */
export async function slidingWindowProbabilities(
  image: Float32Array,
  spatial: readonly number[],
  channels: number,
  patch: readonly number[],
  run: PatchRunner,
  options: SlidingWindowOptions = {},
): Promise<{ probabilities: Float32Array; classes: number }> {
  const overlap = options.overlap ?? 0.5;
  const batchSize = Math.max(1, options.batchSize ?? 4);
  const r = patch.length;
  const leading = spatial.slice(0, spatial.length - r);
  const window = spatial.slice(spatial.length - r);
  const slices = leading.reduce((n, d) => n * d, 1);
  const sliceVoxels = window.reduce((n, d) => n * d, 1);
  const patchVoxels = patch.reduce((n, d) => n * d, 1);
  const imageStrides = strides(window);
  const startsPerAxis = window.map((size, a) => windowStarts(size, patch[a], overlap));
  const windows: Window[] = [];
  for (let slice = 0; slice < slices; slice++) {
    const coord = new Array(r).fill(0);
    for (;;) {
      windows.push({ slice, start: coord.map((c, a) => startsPerAxis[a][c]) });
      let a = r - 1;
      for (; a >= 0; a--) {
        if (++coord[a] < startsPerAxis[a].length) break;
        coord[a] = 0;
      }
      if (a < 0) break;
    }
  }
  const importance = gaussianImportance(patch, options.sigmaScale);
  const weightSum = new Float32Array(slices * sliceVoxels);
  let accumulated: Float32Array | undefined;
  let classes = 0;
  const rowLength = patch[r - 1];
  const rows = patchVoxels / rowLength;
  const patchStrides = strides(patch);

  // Visits each row (all axes but the last) of a window that lies inside the image, with its offsets.
  const forEachRow = (w: Window, visit: (patchOffset: number, imageOffset: number, length: number) => void) => {
    for (let row = 0; row < rows; row++) {
      let rest = row * rowLength;
      let imageOffset = w.slice * sliceVoxels;
      let inside = true;
      for (let a = 0; a < r - 1; a++) {
        const c = Math.floor(rest / patchStrides[a]);
        rest -= c * patchStrides[a];
        const pos = w.start[a] + c;
        if (pos >= window[a]) inside = false;
        imageOffset += pos * imageStrides[a];
      }
      if (!inside) continue;
      const length = Math.min(rowLength, window[r - 1] - w.start[r - 1]);
      visit(row * rowLength, imageOffset + w.start[r - 1], length);
    }
  };

  for (let first = 0; first < windows.length; first += batchSize) {
    const chunk = windows.slice(first, first + batchSize);
    const input = new Float32Array(chunk.length * patchVoxels * channels);
    chunk.forEach((w, i) =>
      forEachRow(w, (p, img, len) => input.set(image.subarray(img * channels, (img + len) * channels), (i * patchVoxels + p) * channels)),
    );
    const out = await run(input, chunk.length, patch);
    if (!accumulated) {
      classes = out.classes;
      accumulated = new Float32Array(slices * sliceVoxels * classes);
    }
    const acc = accumulated;
    chunk.forEach((w, i) =>
      forEachRow(w, (p, img, len) => {
        for (let j = 0; j < len; j++) {
          const weight = importance[p + j];
          weightSum[img + j] += weight;
          const src = (i * patchVoxels + p + j) * classes;
          const dst = (img + j) * classes;
          for (let k = 0; k < classes; k++) acc[dst + k] += weight * out.data[src + k];
        }
      }),
    );
  }
  const probabilities = accumulated!;
  for (let v = 0; v < weightSum.length; v++) {
    for (let k = 0; k < classes; k++) probabilities[v * classes + k] /= weightSum[v];
  }
  return { probabilities, classes };
}

/** Class index of the largest probability per voxel ([..., K] -> [...]); ties go to the lower class. */
export function argmaxLabels(probabilities: Float32Array, classes: number): Uint8Array | Uint16Array {
  const n = probabilities.length / classes;
  const out = classes <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  for (let v = 0; v < n; v++) {
    let best = 0;
    let bestValue = probabilities[v * classes];
    for (let k = 1; k < classes; k++) {
      const value = probabilities[v * classes + k];
      if (value > bestValue) {
        best = k;
        bestValue = value;
      }
    }
    out[v] = best;
  }
  return out;
}
