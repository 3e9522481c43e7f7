/**
 * The region term of the Active Contour loss (Chen et al., "Learning Active Contour Models for Medical Image
 * Segmentation", CVPR 2019) as an RW map: 0 where the voxel belongs to class k, 1 elsewhere (absent class: all 1).
 * Channels-last Float32 [...shape, K].
 */
import { checkLabelMap, definePlugin, defineMap, PLUGIN_API_VERSION, z } from '@rwseg/core/plugin';

export function activeContourMap(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses).fill(1);
  for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = 0;
  return out;
}

export const activeContour = defineMap({
  name: 'active-contour',
  description: 'Active-contour region map (Chen et al. 2019): 0 inside each class, 1 outside',
  options: z.object({}),
  generate: ({ labels, shape, spacing, numClasses }) => {
    checkLabelMap("map 'active-contour'", labels, shape, spacing, numClasses);
    return activeContourMap(labels, numClasses);
  },
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: '@rwseg/plugin-maps-active-contour',
  description: 'Active-contour region map',
  maps: [activeContour],
});
