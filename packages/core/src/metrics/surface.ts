/**
 * Surface voxels of a binary mask: voxels of the mask with a face neighbour (4 in 2D, 6 in 3D, 2N in N-D)
 * that is background or outside the array. Treating outside as background means an object cut by the image
 * edge has a surface there, as with scipy's binary_erosion(border_value=0) used by MONAI and DeepMind.
 */
export function extractSurface(mask: Uint8Array, shape: readonly number[], out = new Uint8Array(mask.length)): Uint8Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a]!;
  }
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < mask.length; i++) {
    let onSurface = 0;
    if (mask[i] !== 0) {
      for (let a = 0; a < rank && onSurface === 0; a++) {
        const c = coord[a]!;
        const stride = strides[a]!;
        if (c === 0 || c === shape[a]! - 1 || mask[i - stride] === 0 || mask[i + stride] === 0) onSurface = 1;
      }
    }
    out[i] = onSurface;
    for (let a = rank - 1; a >= 0; a--) {
      if (++coord[a]! < shape[a]!) break;
      coord[a] = 0;
    }
  }
  return out;
}
