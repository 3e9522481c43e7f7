export { integerTicks, lineChartSvg, niceTicks, type LineChartOptions, type Series } from './line-chart.js';
export {
  overlayFigurePng,
  overlayPng,
  type OverlayFigureInput,
  type OverlayFigureLayout,
  type OverlayInput,
} from './overlay.js';
export { Raster, lineHeight, textWidth, type Rgb } from './raster.js';
export {
  bestValidatedEpoch,
  trainingCurveSvgs,
  type CurveHistoryEntry,
  type TrainingCurveOptions,
} from './training-curves.js';
