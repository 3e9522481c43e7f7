/** `@rwseg/core/plots`: figures as files: line charts and training curves (SVG), predictions over images (PNG). */
export { lineChartSvg, type LineChartOptions, type Series } from '../plots/line-chart.js';
export { trainingCurveSvgs, type TrainingCurveOptions } from '../plots/training-curves.js';
export { overlayFigurePng, overlayPng, type OverlayFigureInput, type OverlayInput } from '../plots/overlay.js';
