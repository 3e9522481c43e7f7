export { RwsegCommand } from './base-command.js';
export { describeFailure } from './base-command.js';
export { parseLabelMapFlag } from './label-map-flag.js';
