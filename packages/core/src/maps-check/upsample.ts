/** Nearest-neighbor upsampling of a label map by an integer factor along every axis (row-major, last axis fastest). */
export function upsampleNearest(
  labels: ArrayLike<number>,
  shape: readonly number[],
  factor: number,
): { labels: Int32Array; shape: number[] } {
  const outShape = shape.map((n) => n * factor);
  const rank = shape.length;
  const out = new Int32Array(outShape.reduce((p, n) => p * n, 1));
  const coord = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let source = 0;
    for (let a = 0; a < rank; a++) source = source * shape[a]! + Math.floor(coord[a]! / factor);
    out[o] = labels[source]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++coord[a]! < outShape[a]!) break;
      coord[a] = 0;
    }
  }
  return { labels: out, shape: outShape };
}
