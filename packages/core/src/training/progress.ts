/**
 * Progress for long training runs: a one-line bar with epoch, iteration, loss, speed and ETA, redrawn in place
 * on a terminal and printed once per epoch elsewhere (logs, CI). Writes to a stream the caller gives (stderr in
 * the CLI, so --json output on stdout stays clean).
 */
import type { TrainingEvent } from './trainer.js';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressBar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export interface ProgressWriter {
  (event: TrainingEvent): void;
}

/** A TrainingEvent listener that draws progress on `stream`; `label` prefixes each line (the run's name). */
export function createProgressWriter(stream: { write(s: string): unknown; isTTY?: boolean }, label = '', now: () => number = Date.now): ProgressWriter {
  let epochs = 0;
  let perEpoch = 0;
  let startEpoch = 0;
  let startedAt = 0;
  let done = 0;
  const prefix = label ? `${label} ` : '';
  return (event) => {
    if (event.type === 'start') {
      ({ epochs, iterationsPerEpoch: perEpoch, startEpoch } = event);
      startedAt = now();
      done = 0;
      if (event.resumedFrom) stream.write(`${prefix}resuming at epoch ${startEpoch + 1} from ${event.resumedFrom}\n`);
      return;
    }
    if (event.type === 'iteration') {
      done++;
      if (!stream.isTTY) return;
      const elapsed = (now() - startedAt) / 1000;
      const rate = done / Math.max(elapsed, 1e-9);
      const remaining = (epochs - startEpoch) * perEpoch - done;
      const line = `${prefix}epoch ${event.epoch}/${epochs} ${progressBar((event.iteration + 1) / perEpoch)} ${event.iteration + 1}/${perEpoch} loss ${event.loss.toFixed(4)} ${rate.toFixed(2)} it/s ETA ${formatDuration(remaining / rate)}`;
      stream.write(`\r${line}\u001b[K`);
      return;
    }
    const e = event.entry;
    const elapsed = (now() - startedAt) / 1000;
    // Epochs in events are 1-based (trainer.ts): e.epoch epochs are done.
    const remaining = ((epochs - e.epoch) * elapsed) / Math.max(e.epoch - startEpoch, 1);
    const dice = e.validation ? ` val Dice ${e.validation.classes.map((c) => `${c.classIndex}:${Number.isFinite(c.dice.mean) ? c.dice.mean.toFixed(3) : 'n/a'}`).join(' ')}` : '';
    stream.write(`${stream.isTTY ? '\r\u001b[K' : ''}${prefix}epoch ${e.epoch}/${epochs} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${(perEpoch / Math.max(e.seconds, 1e-9)).toFixed(2)} it/s${dice} ETA ${formatDuration(remaining)}\n`);
  };
}
