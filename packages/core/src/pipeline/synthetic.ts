/**
 * A seeded synthetic 2D segmentation set for the quickstart and tests: each image holds K - 1 ellipses (class k
 * drawn with intensity k, later classes over earlier ones) on a smooth background gradient with Gaussian-like
 * noise. Easy enough that a small U-Net learns it in minutes on a CPU, hard enough that a broken model or loss
 * stays near chance (the noise sd is half the class intensity gap).
 */
import { SeededRandom } from '../training/rng.js';
import type { Volume } from '../volume.js';

export interface SyntheticCase {
  readonly id: string;
  readonly image: Volume<Float32Array>;
  readonly labels: Volume<Int32Array>;
}

export interface SyntheticOptions {
  readonly shape: readonly [number, number];
  readonly numClasses: number;
  readonly count: number;
  readonly seed: number;
  readonly noise?: number;
  readonly prefix?: string;
}

export function syntheticCases(options: SyntheticOptions): SyntheticCase[] {
  const rng = new SeededRandom(options.seed);
  const [h, w] = options.shape;
  const noise = options.noise ?? 0.5;
  return Array.from({ length: options.count }, (_, index) => {
    const labels = new Int32Array(h * w);
    for (let k = 1; k < options.numClasses; k++) {
      const cy = h * (0.2 + 0.6 * rng.next());
      const cx = w * (0.2 + 0.6 * rng.next());
      const ry = Math.min(h, w) * (0.08 + 0.14 * rng.next());
      const rx = Math.min(h, w) * (0.08 + 0.14 * rng.next());
      const angle = Math.PI * rng.next();
      const [c, s] = [Math.cos(angle), Math.sin(angle)];
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const u = (x - cx) * c + (y - cy) * s;
          const v = -(x - cx) * s + (y - cy) * c;
          if ((u / rx) ** 2 + (v / ry) ** 2 <= 1) labels[y * w + x] = k;
        }
      }
    }
    const gx = rng.next() - 0.5;
    const gy = rng.next() - 0.5;
    const image = new Float32Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Sum of uniforms: close to Gaussian, cheap, seeded.
        const n = (rng.next() + rng.next() + rng.next() - 1.5) * 2 * noise;
        image[y * w + x] = labels[y * w + x]! + gx * (x / w) + gy * (y / h) + n;
      }
    }
    const id = `${options.prefix ?? 'synthetic'}-${String(index).padStart(3, '0')}`;
    return { id, image: { data: image, shape: [h, w], spacing: [1, 1] }, labels: { data: labels, shape: [h, w], spacing: [1, 1] } };
  });
}
