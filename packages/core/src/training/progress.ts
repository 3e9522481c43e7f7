/**
 * Progress for long training runs, written to a stream the caller gives (stderr in the CLI, so --json output on
 * stdout stays clean). On a terminal: a one-line bar with epoch, iteration, loss, speed and ETA, redrawn in place.
 * Elsewhere (a log file, CI, `nohup`): plain lines, one when training starts, then one every `intervalSeconds`
 * inside an epoch and inside validation, and one at the end of each epoch, so a long 3D epoch is never silent.
 *
 * Plain lines, one per event kind (docs/training.md lists them; the fields are space-separated `name value`):
 *   <label> training epochs 1..E, N iterations per epoch, progress every Ss
 *   <label> epoch e/E iteration i/N loss L (epoch mean M) R it/s ETA epoch T run T
 *   <label> epoch e/E validation case c/C (id) R cases/s ETA T
 *   <label> epoch e/E loss L lr X R it/s [val Dice k:d ... [val loss V]] ETA T
 */
import type { TrainingEvent } from './trainer.js';

/** Seconds between plain progress lines when the caller does not say (training.progressIntervalSeconds). */
export const DEFAULT_PROGRESS_INTERVAL_SECONDS = 10;

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

export interface ProgressOptions {
  /** Seconds between plain lines inside an epoch or a validation pass (non-TTY streams); 0 prints every event. */
  readonly intervalSeconds?: number;
  /** The clock, in milliseconds (tests pass their own). */
  readonly now?: () => number;
}

type ProgressStream = { write(s: string): unknown; isTTY?: boolean };

/** A TrainingEvent listener that draws progress on `stream`; `label` prefixes each line (the run's name). */
export function createProgressWriter(
  stream: ProgressStream,
  label = '',
  options: ProgressOptions = {},
): ProgressWriter {
  const now = options.now ?? Date.now;
  const interval = (options.intervalSeconds ?? DEFAULT_PROGRESS_INTERVAL_SECONDS) * 1000;
  const tty = stream.isTTY === true;
  let epochs = 0;
  let perEpoch = 0;
  let startEpoch = 0;
  let startedAt = 0;
  let done = 0;
  let epochLoss = 0;
  let lastLineAt = 0;
  let validationStartedAt = 0;
  // Validation starts right after the event before its first case (the epoch's last iteration, or a resume).
  let lastEventAt = 0;
  const prefix = label ? `${label} ` : '';
  // A plain line is due once `interval` has passed since the last line of any kind.
  const due = () => now() - lastLineAt >= interval;
  const plain = (line: string) => {
    stream.write(`${prefix}${line}\n`);
    lastLineAt = now();
  };
  const redraw = (line: string) => stream.write(`\r${prefix}${line}\u001b[K`);
  return (event) => {
    const previousEventAt = lastEventAt;
    lastEventAt = now();
    if (event.type === 'start') {
      ({ epochs, iterationsPerEpoch: perEpoch, startEpoch } = event);
      startedAt = now();
      lastLineAt = startedAt;
      done = 0;
      if (event.resumedFrom) stream.write(`${prefix}resuming at epoch ${startEpoch + 1} from ${event.resumedFrom}\n`);
      if (!tty && startEpoch < epochs) {
        const every = formatDuration(interval / 1000);
        const epochRange = `${startEpoch + 1}..${epochs}`;
        plain(`training epochs ${epochRange}, ${perEpoch} iterations per epoch, progress every ${every}`);
      }
      return;
    }
    if (event.type === 'iteration') {
      done++;
      epochLoss = event.iteration === 0 ? event.loss : epochLoss + event.loss;
      const iteration = event.iteration + 1;
      // This epoch's speed (the trainer's clock: seconds since the epoch began); the run's ETA from the whole run's
      // pace, which includes validation and data-loader start-up, so it does not promise too early an end.
      const rate = iteration / Math.max(event.seconds, 1e-9);
      const perIteration = (now() - startedAt) / 1000 / done;
      const runRemaining = ((epochs - startEpoch) * perEpoch - done) * perIteration;
      const epochEta = formatDuration((perEpoch - iteration) / rate);
      if (tty) {
        const bar = `${progressBar(iteration / perEpoch)} ${iteration}/${perEpoch}`;
        const eta = formatDuration(runRemaining);
        const at = `epoch ${event.epoch}/${epochs}`;
        redraw(`${at} ${bar} loss ${event.loss.toFixed(4)} ${rate.toFixed(2)} it/s ETA ${eta}`);
        return;
      }
      // The epoch's last iteration is followed by the epoch line; skip it here.
      if (iteration === perEpoch || !due()) return;
      const lossText = `loss ${event.loss.toFixed(4)} (epoch mean ${(epochLoss / iteration).toFixed(4)})`;
      const eta = `ETA epoch ${epochEta} run ${formatDuration(runRemaining)}`;
      const at = `epoch ${event.epoch}/${epochs} iteration ${iteration}/${perEpoch}`;
      plain(`${at} ${lossText} ${formatRate(rate)} it/s ${eta}`);
      return;
    }
    if (event.type === 'validation') {
      if (event.case === 0) validationStartedAt = previousEventAt;
      const finished = event.case + 1;
      const rate = finished / Math.max((now() - validationStartedAt) / 1000, 1e-9);
      const eta = formatDuration((event.cases - finished) / rate);
      const at = `epoch ${event.epoch}/${epochs} validation case ${finished}/${event.cases} (${event.id})`;
      const line = `${at} ${formatRate(rate)} cases/s ETA ${eta}`;
      if (tty) redraw(line);
      else if (due()) plain(line);
      return;
    }
    const e = event.entry;
    const elapsed = (now() - startedAt) / 1000;
    // Epochs in events are 1-based (trainer.ts): e.epoch epochs are done.
    const remaining = ((epochs - e.epoch) * elapsed) / Math.max(e.epoch - startEpoch, 1);
    const classDice = (c: { classIndex: number; dice: { mean: number } }) =>
      `${c.classIndex}:${Number.isFinite(c.dice.mean) ? c.dice.mean.toFixed(3) : 'n/a'}`;
    const valLoss = e.validationLoss !== undefined ? ` val loss ${e.validationLoss.toFixed(4)}` : '';
    const dice = e.validation ? ` val Dice ${e.validation.classes.map(classDice).join(' ')}${valLoss}` : '';
    if (tty) stream.write('\r\u001b[K');
    const rate = formatRate(perEpoch / Math.max(e.seconds, 1e-9));
    const lossText = `loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}`;
    plain(`epoch ${e.epoch}/${epochs} ${lossText} ${rate} it/s${dice} ETA ${formatDuration(remaining)}`);
  };
}

/** Two decimals, or three significant digits below 0.1 it/s (a 3D step on a CPU can take minutes). */
function formatRate(rate: number): string {
  return rate >= 0.1 ? rate.toFixed(2) : rate.toPrecision(3);
}

export interface CaseProgressOptions extends ProgressOptions {
  /** What the cases are for, first on each line ('evaluate', 'predict'). */
  readonly label?: string;
}

/**
 * Progress over a list of cases outside training (`rwseg evaluate`): on a terminal a bar with case k of N and ETA
 * redrawn after each case; elsewhere a first line, then a plain line every `intervalSeconds` and one for the last:
 *   <label> N case(s), progress every Ss
 *   <label> case k/N (id) R cases/s ETA T
 * Call it with each finished case's 0-based index and id, as validate()'s onCase does.
 */
export function createCaseProgressWriter(
  stream: ProgressStream,
  total: number,
  options: CaseProgressOptions = {},
): (index: number, id: string) => void {
  const now = options.now ?? Date.now;
  const interval = (options.intervalSeconds ?? DEFAULT_PROGRESS_INTERVAL_SECONDS) * 1000;
  const tty = stream.isTTY === true;
  const prefix = options.label ? `${options.label} ` : '';
  const startedAt = now();
  let lastLineAt = startedAt;
  // Off a terminal, say at once what is coming: a slow first case would otherwise leave the log silent.
  if (!tty) stream.write(`${prefix}${total} case(s), progress every ${formatDuration(interval / 1000)}\n`);
  return (index, id) => {
    const finished = index + 1;
    const rate = finished / Math.max((now() - startedAt) / 1000, 1e-9);
    const eta = formatDuration((total - finished) / rate);
    const line = `case ${finished}/${total} (${id}) ${formatRate(rate)} cases/s ETA ${eta}`;
    if (tty) {
      stream.write(`\r${prefix}${progressBar(finished / total)} ${line}\u001b[K`);
      // The bar is done: clear it so the results print on a clean line.
      if (finished === total) stream.write('\r\u001b[K');
      return;
    }
    if (finished < total && now() - lastLineAt < interval) return;
    stream.write(`${prefix}${line}\n`);
    lastLineAt = now();
  };
}
