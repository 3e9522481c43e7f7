/**
 * Brute-force references for the RW maps (O(N^2) exact Euclidean distances, fine on a few dozen pixels), as a map
 * plugin registered under the names the region-wise losses request (rrw, rw-class-balance, boundary, boundary-rw,
 * active-contour). A loss's tests use it so that they check the loss, not the fast map generators.
 */
import { z } from 'zod';
import { defineMap, definePlugin, PLUGIN_API_VERSION, type LabelMapInput } from '../plugins/api.js';

/** Distance from each pixel with mask = 1 to the nearest pixel with mask = 0 (0 where mask = 0, Infinity if none). */
export function bruteForceEdt(
  mask: readonly boolean[],
  shape: readonly number[],
  spacing: readonly number[],
): Float64Array {
  const coords = (index: number): number[] => {
    const c: number[] = [];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      c.unshift(index % shape[axis]!);
      index = Math.floor(index / shape[axis]!);
    }
    return c;
  };
  const out = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const ci = coords(i);
    let best = Infinity;
    for (let j = 0; j < mask.length; j++) {
      if (mask[j]) continue;
      const cj = coords(j);
      best = Math.min(best, Math.hypot(...ci.map((v, a) => (v - cj[a]!) * spacing[a]!)));
    }
    out[i] = best;
  }
  return out;
}

type ChannelMap = (inside: boolean[], input: LabelMapInput, k: number) => number[];

function perClass(input: LabelMapInput, channel: ChannelMap): Float32Array {
  const n = input.labels.length;
  const out = new Float32Array(n * input.numClasses);
  for (let k = 0; k < input.numClasses; k++) {
    const inside = Array.from({ length: n }, (_, i) => input.labels[i] === k);
    const values = channel(inside, input, k);
    for (let i = 0; i < n; i++) out[i * input.numClasses + k] = values[i]!;
  }
  return out;
}

const present = (m: boolean[]): 'absent' | 'full' | 'partial' =>
  m.every((v) => !v) ? 'absent' : m.every((v) => v) ? 'full' : 'partial';

function rrwChannel(inside: boolean[], input: LabelMapInput, outside: number): number[] {
  const state = present(inside);
  if (state === 'absent') return inside.map(() => outside);
  if (state === 'full') return inside.map(() => -1);
  const d = bruteForceEdt(inside, input.shape, input.spacing);
  const max = Math.max(...d);
  return inside.map((y, i) => (y ? -d[i]! / max : outside));
}

function signedChannel(inside: boolean[], input: LabelMapInput, innerShift: number): number[] {
  if (present(inside) !== 'partial') return inside.map(() => 0);
  const din = bruteForceEdt(inside, input.shape, input.spacing);
  const dout = bruteForceEdt(
    inside.map((v) => !v),
    input.shape,
    input.spacing,
  );
  return inside.map((y, i) => (y ? -(din[i]! - innerShift) : dout[i]!));
}

export const referenceMapsPlugin = definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: 'test-reference-maps',
  maps: [
    defineMap({
      name: 'rrw',
      description: 'reference rrw',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => rrwChannel(m, input, 1)),
    }),
    defineMap({
      name: 'rw-class-balance',
      description: 'reference class-balance map',
      options: z.object({ weights: z.array(z.number()).optional() }),
      generate: (input, { weights }) => perClass(input, (m, _, k) => rrwChannel(m, input, weights?.[k] ?? 1)),
    }),
    defineMap({
      name: 'boundary',
      description: 'reference boundary map',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => signedChannel(m, input, 1)),
    }),
    defineMap({
      name: 'boundary-rw',
      description: 'reference boundary-rw map',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => signedChannel(m, input, 0)),
    }),
    defineMap({
      name: 'active-contour',
      description: 'reference active-contour map',
      options: z.object({}),
      generate: (input) => perClass(input, (m) => m.map((y) => (y ? 0 : 1))),
    }),
  ],
});
