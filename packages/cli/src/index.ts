export { RwsegCommand } from './base-command.js';
