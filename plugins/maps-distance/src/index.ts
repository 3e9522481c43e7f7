/**
 * Distance-based RW maps: rrw, rw-class-balance, boundary, boundary-rw. Every map is computed per patch from the
 * integer label map and its voxel spacing (input.spacing), channels-last Float32 [...shape, K].
 */
import {
  checkLabelMap,
  definePlugin,
  defineMap,
  PLUGIN_API_VERSION,
  RwsegError,
  z,
  type LabelMapInput,
} from '@rwseg/core/plugin';
import { boundaryDistanceMap } from './boundary.js';
import { classFrequencyWeights, rectifiedRegionWiseMap } from './rectified.js';

export { boundaryDistanceMap } from './boundary.js';
export { classFrequencyWeights, rectifiedRegionWiseMap } from './rectified.js';

function validated(map: string, input: LabelMapInput): LabelMapInput {
  checkLabelMap(`map '${map}'`, input.labels, input.shape, input.spacing, input.numClasses);
  return input;
}

export const rrw = defineMap({
  name: 'rrw',
  description: 'Rectified region-wise map: -EDT/max(EDT) inside each class, +1 outside (Valverde & Tohka 2023)',
  options: z.object({}),
  generate: (input) => {
    const { labels, shape, spacing, numClasses } = validated('rrw', input);
    return rectifiedRegionWiseMap(labels, shape, spacing, numClasses, new Array<number>(numClasses).fill(1));
  },
});

export const rwClassBalance = defineMap({
  name: 'rw-class-balance',
  description:
    'Class-balanced RW map: as rrw inside each class, the class weight w_k outside (default: w_k = class frequency in the patch)',
  options: z.object({
    weights: z
      .array(z.number().nonnegative().finite())
      .min(1)
      .optional()
      .describe('one weight per class, background first; default: class frequencies in the patch'),
  }),
  generate: (input, { weights }) => {
    const { labels, shape, spacing, numClasses } = validated('rw-class-balance', input);
    if (weights && weights.length !== numClasses) {
      throw new RwsegError(
        'INVALID_OPTIONS',
        `map 'rw-class-balance': option 'weights' has ${weights.length} entries but the label map has ${numClasses} classes`,
        {
          option: 'weights',
          numClasses,
        },
      );
    }
    return rectifiedRegionWiseMap(
      labels,
      shape,
      spacing,
      numClasses,
      weights ?? classFrequencyWeights(labels, numClasses),
    );
  },
});

export const boundary = defineMap({
  name: 'boundary',
  description: 'Boundary loss map (Kervadec et al. 2019): -(EDT(y) - 1) inside, +EDT(1 - y) outside, absent class 0',
  options: z.object({}),
  generate: (input) => {
    const { labels, shape, spacing, numClasses } = validated('boundary', input);
    return boundaryDistanceMap(labels, shape, spacing, numClasses, 1);
  },
});

export const boundaryRw = defineMap({
  name: 'boundary-rw',
  description: "The RW paper's boundary map: -EDT(y) inside, +EDT(1 - y) outside, absent class 0",
  options: z.object({}),
  generate: (input) => {
    const { labels, shape, spacing, numClasses } = validated('boundary-rw', input);
    return boundaryDistanceMap(labels, shape, spacing, numClasses, 0);
  },
});

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: '@rwseg/plugin-maps-distance',
  description: 'Distance-based region-wise maps: rrw, rw-class-balance, boundary, boundary-rw',
  maps: [rrw, rwClassBalance, boundary, boundaryRw],
});
