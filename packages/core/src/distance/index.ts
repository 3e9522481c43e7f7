export {
  euclideanDistanceTransform,
  euclideanDistanceTransformAt,
  squaredDistanceTransform,
  EdtScratch,
  type EdtOptions,
} from './edt.js';
export { signedDistanceTransform } from './signed.js';
export { classDistances, type ClassDistances, type ClassDistanceRequest } from './class-distances.js';
export { checkGrid, checkLabelMap } from './grid.js';
export { MapWorkerPool, type MapWorkerPoolOptions, type SubmitOptions } from './pool.js';
export { nearestSiteDistances } from './nearest-site.js';
