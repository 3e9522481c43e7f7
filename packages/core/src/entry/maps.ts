/**
 * `@rwseg/core/maps`: a map generator's output checked against the paper's principles (`rwseg maps check`) and
 * drawn beside its labels (`rwseg maps show`).
 */
export { checkMapPrinciples, type PrincipleCheckOptions, type PrincipleReport } from '../maps-check/principles.js';
export { mapFigurePng, type MapFigure, type MapFigurePanel } from '../maps-check/map-figure.js';
