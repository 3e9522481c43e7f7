/** Small helpers over flat row-major float arrays and TF.js config values. */

/** Transposes a row-major array of `shape` by `perm` (out.shape[i] = shape[perm[i]]). */
export function permute(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const strideOfOut = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!;
    // Odometer over the output index, moving the source offset along.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      src += strideOfOut[d]!;
      if (index[d]! < outShape[d]!) break;
      src -= strideOfOut[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** A TF.js config value that is either one number for every spatial axis or one per axis. */
export function perAxis(value: unknown, n: number, fallback: number): number[] {
  if (value === undefined || value === null) return new Array<number>(n).fill(fallback);
  if (typeof value === 'number') return new Array<number>(n).fill(value);
  if (Array.isArray(value) && value.length === n && value.every((v) => typeof v === 'number')) return value as number[];
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'number')
    return new Array<number>(n).fill(value[0]);
  throw new RangeError(`expected a number or ${n} numbers, got ${JSON.stringify(value)}`);
}
