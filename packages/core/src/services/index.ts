export { BackendSelection } from './backend-selection.js';
export { systemClock, type Clock } from './clock.js';
export { createContainer, createRegistry, createServices, resolveRegistry, type ServiceOptions } from './container.js';
export { TOKENS } from './tokens.js';
export type { Container as ServiceContainer } from 'inversify';
