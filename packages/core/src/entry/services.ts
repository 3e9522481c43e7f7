/**
 * `@rwseg/core/services`: the composition root. createServices binds the services the CLI, the pipeline and tests
 * share (logger, clock, backend selection, plugin loader, registry) under TOKENS; a test or an embedding
 * application rebinds one token before a run (docs/architecture.md, "Where each service is bound").
 */
export { createServices, resolveRegistry, type ServiceOptions } from '../services/container.js';
export { TOKENS } from '../services/tokens.js';
export { BackendSelection } from '../services/backend-selection.js';
export { systemClock, type Clock } from '../services/clock.js';
export type { Container as ServiceContainer } from 'inversify';
