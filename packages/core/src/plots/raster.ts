/**
 * A small RGB canvas for the PNG figures (overlays, `maps show`): rectangles, upscaled images and text from a
 * built-in bitmap font (font-glyphs.ts), so titles and keys render the same on every machine, with no system
 * fonts or native text renderer.
 */
import { PNG } from 'pngjs';
import { GLYPHS, GLYPH_HEIGHT, GLYPH_WIDTH } from './font-glyphs.js';

export type Rgb = readonly [number, number, number];

/** Height in pixels of one line of text at `scale`. */
export const lineHeight = (scale = 1) => GLYPH_HEIGHT * scale;

/** Width in pixels of `text` at `scale` (a monospace font). */
export const textWidth = (text: string, scale = 1) => text.length * GLYPH_WIDTH * scale;

export class Raster {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.data.set(background, i * 3);
  }

  set(x: number, y: number, rgb: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(rgb, (y * this.width + x) * 3);
  }

  get(x: number, y: number): Rgb {
    const p = (y * this.width + x) * 3;
    return [this.data[p]!, this.data[p + 1]!, this.data[p + 2]!];
  }

  fillRect(x: number, y: number, width: number, height: number, rgb: Rgb): void {
    for (let j = 0; j < height; j++) for (let i = 0; i < width; i++) this.set(x + i, y + j, rgb);
  }

  /** Draws an RGB image (3 bytes a pixel) at (x, y), each pixel as a scale x scale block. */
  blit(rgb: Uint8Array, width: number, height: number, x: number, y: number, scale = 1): void {
    for (let j = 0; j < height * scale; j++) {
      for (let i = 0; i < width * scale; i++) {
        const p = (Math.floor(j / scale) * width + Math.floor(i / scale)) * 3;
        this.set(x + i, y + j, [rgb[p]!, rgb[p + 1]!, rgb[p + 2]!]);
      }
    }
  }

  /** Writes `text` with its top-left corner at (x, y), blending the glyphs' coverage over what is there. */
  text(x: number, y: number, text: string, rgb: Rgb = [0, 0, 0], scale = 1): void {
    [...text].forEach((char, n) => {
      const code = char.charCodeAt(0);
      const glyph = GLYPHS[code >= 32 && code < 127 ? code - 32 : '?'.charCodeAt(0) - 32]!;
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          const alpha = Number(glyph[gy * GLYPH_WIDTH + gx]) / 9;
          if (alpha === 0) continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              const px = x + (n * GLYPH_WIDTH + gx) * scale + sx;
              const py = y + gy * scale + sy;
              if (px < 0 || py < 0 || px >= this.width || py >= this.height) continue;
              const under = this.get(px, py);
              this.set(px, py, [0, 1, 2].map((c) => Math.round(under[c]! * (1 - alpha) + rgb[c]! * alpha)) as never);
            }
          }
        }
      }
    });
  }

  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    for (let i = 0; i < this.width * this.height; i++) {
      png.data.set(this.data.subarray(i * 3, i * 3 + 3), i * 4);
      png.data[i * 4 + 3] = 255;
    }
    return PNG.sync.write(png);
  }
}
