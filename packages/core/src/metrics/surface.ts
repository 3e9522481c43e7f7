/**
 * Surface voxels of a binary mask: voxels of the mask with a face neighbor (4 in 2D, 6 in 3D, 2N in N-D)
 * that is background or outside the array. Treating outside as background means an object cut by the image
 * edge has a surface there, as with scipy's binary_erosion(border_value=0) used by MONAI and DeepMind.
 */
export function extractSurface(
  mask: Uint8Array,
  shape: readonly number[],
  out = new Uint8Array(mask.length),
): Uint8Array {
  out.fill(0);
  const indices = surfaceIndices(mask, shape);
  for (let s = 0; s < indices.length; s++) out[indices[s]!] = 1;
  return out;
}

/** The row-major indices of the surface voxels (as extractSurface defines them), ascending. */
export function surfaceIndices(mask: Uint8Array, shape: readonly number[]): Int32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a]!;
  }
  const rowLength = shape[rank - 1]!;
  const rows = mask.length / rowLength;
  // The neighbors along the row's own axis and the one across rows are tested inline; any other axes in a loop.
  const across = rank >= 2 ? rowLength : 0;
  let found = new Int32Array(1024);
  let size = 0;
  const coord = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (let row = 0; row < rows; row++) {
    // A row on the border of any other axis has every one of its mask voxels on the surface.
    let border = false;
    for (let a = 0; a < rank - 1; a++) if (coord[a] === 0 || coord[a] === shape[a]! - 1) border = true;
    const base = row * rowLength;
    for (let x = 0; x < rowLength; x++) {
      const i = base + x;
      if (mask[i] === 0) continue;
      let onSurface = border || x === 0 || x === rowLength - 1 || mask[i - 1] === 0 || mask[i + 1] === 0;
      if (!onSurface && across > 0) onSurface = mask[i - across] === 0 || mask[i + across] === 0;
      for (let a = 0; a < rank - 2 && !onSurface; a++) {
        onSurface = mask[i - strides[a]!] === 0 || mask[i + strides[a]!] === 0;
      }
      if (!onSurface) continue;
      if (size === found.length) {
        const grown = new Int32Array(size * 2);
        grown.set(found);
        found = grown;
      }
      found[size++] = i;
    }
    for (let a = rank - 2; a >= 0; a--) {
      if (++coord[a]! < shape[a]!) break;
      coord[a] = 0;
    }
  }
  return found.slice(0, size);
}
