/**
 * The Lovász extension of the Jaccard loss as Berman et al. compute it (and segmentation_models_pytorch's
 * _lovasz_softmax_flat): for one class over a set of pixels, errors e_i = |y_i - p_i| sorted in decreasing order,
 * and the loss is sum_j e_(j) g_j with g the discrete gradient of the Jaccard loss along that order:
 *   J_j = 1 - (G - cumsum(y_sorted)_j) / (G + cumsum(1 - y_sorted)_j),  g_1 = J_1,  g_j = J_j - J_(j-1)
 * (G the class's pixel count). g depends only on the sort order, so the loss is sum_i e_i w_i with w_i = g_rank(i):
 * a constant weight per pixel, which gives the same value and gradient as the sorted form with plain TF.js ops.
 */

/**
 * Lovász weights w_i for each (group, class), laid out like `errors` ([groups * n, K] row-major, pixels of a group
 * contiguous). `errors` and `target` are read on the CPU; the weights are constants for the gradient.
 */
export function lovaszWeights(
  errors: ArrayLike<number>,
  target: ArrayLike<number>,
  groups: number,
  numClasses: number,
): Float32Array {
  const n = errors.length / (groups * numClasses);
  const out = new Float32Array(errors.length);
  const order = new Int32Array(n);
  const values = new Float64Array(n);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < numClasses; k++) {
      const at = (i: number): number => (g * n + i) * numClasses + k;
      let total = 0;
      for (let i = 0; i < n; i++) {
        order[i] = i;
        values[i] = errors[at(i)]!;
        total += target[at(i)]!;
      }
      order.sort((a, b) => values[b]! - values[a]!);
      let intersection = total;
      let union = total;
      let previous = 0;
      for (let j = 0; j < n; j++) {
        const y = target[at(order[j]!)]!;
        intersection -= y;
        union += 1 - y;
        const jaccard = 1 - intersection / union;
        out[at(order[j]!)] = jaccard - previous;
        previous = jaccard;
      }
    }
  }
  return out;
}
