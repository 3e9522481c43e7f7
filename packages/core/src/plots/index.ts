export { lineChartSvg, niceTicks, type LineChartOptions, type Series } from './line-chart.js';
export { overlayPng, type OverlayInput } from './overlay.js';
