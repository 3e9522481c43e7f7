export * from './vocabulary.js';
export * from './input-checks.js';
export * from './map-terms.js';
export * from './schedules.js';
export * from './combine.js';
export * from './deep-supervision.js';
export * from './finite-differences.js';
