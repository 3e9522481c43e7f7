/**
 * SIGUSR1 and SIGTERM as a training stop request (the trainer's `stop` option): the run finishes its step, writes
 * a checkpoint and returns, and the command exits with a status that says it stopped resumably. USR1 is what
 * nnU-Net handles for Slurm time limits and what `scancel --signal=USR1` sends; TERM is what Slurm preemption,
 * Kubernetes eviction and Ray cancellation send, and what rwseg's sbatch script turns the time limit's
 * `--signal=B:USR1@S` into (sweep-engines.ts). A second signal is left to the engine's kill that follows.
 */
import type { Logger } from '../logger.js';
import { STOPPED_EXIT_CODE, TERMINATED_EXIT_CODE } from './sweep-engines.js';

export interface StopSignals {
  /** Pass as the trainer's / pipeline's `stop`. */
  readonly stop: { readonly aborted: boolean; readonly reason?: string };
  /** The exit status for a stopped run: 75 after USR1, 143 after TERM. */
  exitCode(): number;
  /** Removes the handlers (the default actions come back). */
  dispose(): void;
}

export function listenForStopSignals(logger?: Pick<Logger, 'warn'>): StopSignals {
  const stop: { aborted: boolean; reason?: string } = { aborted: false };
  const handlers = (['SIGUSR1', 'SIGTERM'] as const).map((signal) => {
    const handler = () => {
      if (stop.aborted) return;
      stop.aborted = true;
      stop.reason = signal;
      logger?.warn(`${signal}: finishing the current training step, then writing a checkpoint and exiting (resumable)`);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    stop,
    exitCode: () => (stop.reason === 'SIGTERM' ? TERMINATED_EXIT_CODE : STOPPED_EXIT_CODE),
    dispose: () => handlers.forEach(([signal, handler]) => process.off(signal, handler)),
  };
}
