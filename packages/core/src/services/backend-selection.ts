/** Backend selection as a service: useBackend with the container's logger, so every caller logs alike. */
import 'reflect-metadata';
import { inject, injectable } from 'inversify';
import { useBackend, type BackendChoice, type BackendName } from '@rwseg/tfjs-training-backends';
import type { Logger } from '../logger.js';
import { TOKENS } from './tokens.js';

@injectable()
export class BackendSelection {
  constructor(@inject(TOKENS.Logger) private readonly logger: Logger) {}

  /** Sets the TF.js backend ('auto': the fastest that works here) and says which one it is. */
  use(choice: BackendChoice = 'auto'): Promise<BackendName> {
    return useBackend(choice, { logger: this.logger });
  }
}
