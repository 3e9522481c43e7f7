// Blob masks shared by the EDT and HD95 benchmarks: unions of random balls (seeded), written once to a folder as
// raw uint8 files plus manifest.json, so rwseg and scipy time exactly the same masks.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const CASES = [
  { name: '512x512', shape: [512, 512], anisotropic: [1.0, 0.7] },
  { name: '2048x2048', shape: [2048, 2048], anisotropic: [1.0, 0.7] },
  { name: '128^3', shape: [128, 128, 128], anisotropic: [2.5, 0.8, 0.8] },
  { name: '256^3', shape: [256, 256, 256], anisotropic: [2.5, 0.8, 0.8] },
];

function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** A union of `count` balls with radii between 4 % and 15 % of the smallest side, all moved by `shift` voxels. */
export function blobMask(shape, seed, count = 24, shift = shape.map(() => 0)) {
  const rand = random(seed);
  const n = shape.reduce((p, s) => p * s, 1);
  const mask = new Uint8Array(n);
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, s) => p * s, 1));
  const side = Math.min(...shape);
  for (let b = 0; b < count; b++) {
    const center = shape.map((s, a) => rand() * s + shift[a]);
    const r = side * (0.04 + rand() * 0.11);
    const lo = center.map((c) => Math.max(0, Math.floor(c - r)));
    const hi = center.map((c, a) => Math.min(shape[a] - 1, Math.ceil(c + r)));
    const visit = (axis, offset, d2) => {
      for (let x = lo[axis]; x <= hi[axis]; x++) {
        const e = d2 + (x - center[axis]) ** 2;
        if (e > r * r) continue;
        if (axis === shape.length - 1) mask[offset + x] = 1;
        else visit(axis + 1, offset + x * strides[axis], e);
      }
    };
    visit(0, 0, 0);
  }
  return mask;
}

/** Writes the masks (once) and returns the manifest. */
export function ensureMasks(dir) {
  const manifestPath = path.join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return JSON.parse(readFileSync(manifestPath, 'utf8'));
  mkdirSync(dir, { recursive: true });
  const manifest = CASES.map((c, i) => {
    const file = `${c.name.replace('^', 'cube')}.u8`;
    const mask = blobMask(c.shape, 1000 + i);
    writeFileSync(path.join(dir, file), mask);
    const fraction = mask.reduce((p, v) => p + v, 0) / mask.length;
    return { ...c, file, fraction };
  });
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return manifest;
}

export function readMask(dir, entry) {
  const buffer = readFileSync(path.join(dir, entry.file));
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
