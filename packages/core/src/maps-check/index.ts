export {
  checkMapPrinciples,
  marginStats,
  type MarginStats,
  type PrincipleCheckOptions,
  type PrincipleReport,
} from './principles.js';
export { upsampleNearest } from './upsample.js';
export { mapFigurePng, type MapFigure, type MapFigurePanel } from './map-figure.js';
