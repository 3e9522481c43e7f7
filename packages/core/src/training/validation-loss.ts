/**
 * The training loss on the validation cases, from the probabilities the validation forward pass already gives
 * (the inference engine's `onWindows`: no second forward pass). Rule (docs/training.md, "Validation loss"):
 * each sliding window the engine runs is one sample, scored by the run's own Loss at the full-resolution head
 * (deep supervision's coarser heads exist in training mode only) with the epoch's schedule, against the window's
 * labels cut as the engine cuts the image (padding is background, as in training patches) and the maps computed
 * from those window labels by the same map generators as the training loader's patches. A case's loss is the mean
 * over its windows; the validation loss is the mean over cases.
 *
 * A window's maps do not change between epochs: they are computed once and kept for the run with its target, up
 * to `cacheBytes` (beyond it, the remaining windows are recomputed at each validation); a loss without maps keeps
 * nothing, its one-hot targets being cheaper to rebuild than to hold.
 */
import { buildBatch } from '../data/batch-builder.js';
import type { Batch } from '../data/batch.js';
import { RwsegError } from '../errors.js';
import { cropWindow, type WindowBatch } from '../inference/probabilities.js';
import { batchLossInputs, deepSupervision, type DeepSupervisedLoss } from '../losses/deep-supervision.js';
import type { Loss } from '../plugins/api.js';
import type { BoundMapGenerator } from '../plugins/registry.js';
import { tf } from '../tf.js';

/** Default budget of the window target/map cache: ample for 2D datasets, a bound for large 3D ones. */
export const VALIDATION_LOSS_CACHE_BYTES = 512 * 1024 ** 2;

export interface ValidationLossOptions {
  readonly loss: Loss;
  /** Generators of every map in `loss.requiredMaps` (the registry's `createMapGenerator`). */
  readonly maps: readonly BoundMapGenerator[];
  readonly numClasses: number;
  readonly cacheBytes?: number;
}

/** A case's labels as validation holds them. */
export interface ValidationLossCase {
  readonly id: string;
  readonly labels: ArrayLike<number>;
  /** Spatial shape of the case. */
  readonly shape: readonly number[];
  readonly spacing: readonly number[];
}

/** One case's running loss: `onWindows` goes to the engine, `mean()` after it. */
export interface CaseLossAccumulator {
  readonly onWindows: (batch: WindowBatch) => Promise<void>;
  /** Mean over the case's windows (NaN before any). */
  mean(): number;
}

export class ValidationLoss {
  private readonly supervised: DeepSupervisedLoss;
  private readonly generators: BoundMapGenerator[];
  private readonly cache = new Map<string, Batch>();
  private cachedBytes = 0;
  private readonly cacheBytes: number;

  constructor(private readonly options: ValidationLossOptions) {
    const { loss } = options;
    const byKey = new Map(options.maps.map((m) => [m.key, m]));
    this.generators = loss.requiredMaps.map((request) => {
      const generator = byKey.get(request.key);
      if (!generator) {
        throw new RwsegError(
          'INVALID_CONFIG',
          `validation loss of '${loss.name}': no generator given for its map '${request.map}' (key ${request.key})`,
          { loss: loss.name, map: request.map },
        );
      }
      return generator;
    });
    this.supervised = deepSupervision(loss, { scales: 1, weights: [1] });
    this.cacheBytes = options.cacheBytes ?? VALIDATION_LOSS_CACHE_BYTES;
  }

  /** Accumulates the loss of case `c` at 0-based `epoch` over the windows the engine reports. */
  forCase(c: ValidationLossCase, epoch: number): CaseLossAccumulator {
    let sum = 0;
    let count = 0;
    const onWindows = async (batch: WindowBatch): Promise<void> => {
      const { plan, classes } = batch;
      if (classes !== this.options.numClasses) return; // validate() names the mismatch after the forward pass
      const windowValues = plan.window.reduce((a, b) => a * b, 1) * classes;
      for (let i = 0; i < batch.windows.length; i++) {
        const targets = this.windowTargets(c, batch, i);
        const probs = batch.probabilities.subarray(i * windowValues, (i + 1) * windowValues);
        const value = tf.tidy(() => {
          const input = tf.tensor(probs, [1, ...plan.window, classes]);
          const inputs = batchLossInputs(targets, [input], this.options.loss.requiredMaps, { epoch });
          return this.supervised.compute(inputs);
        });
        sum += (await value.data())[0]!;
        value.dispose();
        count++;
      }
    };
    return { onWindows, mean: () => (count > 0 ? sum / count : Number.NaN) };
  }

  /** The window's one-hot target and maps, as the training loader builds them for a patch (scale 0). */
  private windowTargets(c: ValidationLossCase, batch: WindowBatch, i: number): Batch {
    // Keyed by where the window lies, so other window settings on the same cases never reuse a stale entry.
    const position = batch.windows[i]!;
    const key = `${c.id}\u0000${position.slice}:${position.start.join(',')}:${batch.plan.window.join('x')}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const { plan } = batch;
    const labels = new Int32Array(plan.window.reduce((a, b) => a * b, 1));
    cropWindow(c.labels, c.shape, 1, plan, position, labels);
    const spacing = plan.axes.map((a) => c.spacing[a] ?? 1);
    const built = buildBatch([{ caseId: c.id, image: new Float32Array(0), labels, spacing }], {
      numClasses: this.options.numClasses,
      channels: 0, // the loss needs no image: the probabilities stand for the model's output
      patchShape: plan.window,
      maps: this.generators,
      scales: 1,
    });
    const scale = built.scales[0]!;
    const bytes = Object.values(scale.maps).reduce((n, m) => n + m.byteLength, scale.target.byteLength);
    // Targets alone are cheaper to rebuild than to hold; maps (distance transforms) are what is worth keeping.
    if (this.generators.length > 0 && this.cachedBytes + bytes <= this.cacheBytes) {
      this.cache.set(key, built);
      this.cachedBytes += bytes;
    }
    return built;
  }
}
