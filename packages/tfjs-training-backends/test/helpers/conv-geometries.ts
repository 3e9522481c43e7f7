/** The 2D convolution geometries the kernel tests sweep, and their shapes. */
import { tf } from '../../src/tf.js';

/** A conv geometry: x [n, h, w, ci], filter [kh, kw, ci, co]. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  stride: number | [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

export const CONV_GEOMETRIES: ConvGeometry[] = [
  { n: 1, h: 8, w: 8, ci: 3, co: 5, kh: 3, kw: 3, stride: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, ci: 2, co: 4, kh: 3, kw: 3, stride: 2, pad: 'same' },
  { n: 3, h: 9, w: 7, ci: 4, co: 3, kh: 3, kw: 3, stride: 2, pad: 'valid' },
  { n: 2, h: 8, w: 6, ci: 4, co: 6, kh: 2, kw: 2, stride: 2, pad: 'valid' },
  { n: 2, h: 8, w: 10, ci: 3, co: 4, kh: 2, kw: 2, stride: 2, pad: 'same' },
  { n: 2, h: 5, w: 5, ci: 2, co: 3, kh: 2, kw: 2, stride: 2, pad: 'same' },
  { n: 2, h: 6, w: 10, ci: 3, co: 2, kh: 1, kw: 1, stride: 1, pad: 'valid' },
  { n: 2, h: 7, w: 6, ci: 3, co: 2, kh: 2, kw: 2, stride: 1, pad: 'same' },
  { n: 2, h: 9, w: 9, ci: 3, co: 4, kh: 3, kw: 3, stride: 3, pad: 'same' },
  { n: 1, h: 7, w: 8, ci: 2, co: 3, kh: 3, kw: 3, stride: 1, pad: 'valid' },
  {
    n: 2,
    h: 7,
    w: 7,
    ci: 2,
    co: 3,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { n: 2, h: 6, w: 9, ci: 2, co: 3, kh: 2, kw: 3, stride: [2, 3], pad: 'valid' },
  { n: 1, h: 8, w: 8, ci: 5, co: 2, kh: 5, kw: 5, stride: 1, pad: 'same' },
];

export function describeGeometry(g: ConvGeometry): string {
  return `x[${g.n},${g.h},${g.w},${g.ci}] k${g.kh}x${g.kw} co${g.co} stride ${JSON.stringify(g.stride)} pad ${JSON.stringify(g.pad)}`;
}

export function outputShape(g: ConvGeometry): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo([g.n, g.h, g.w, g.ci], [g.kh, g.kw, g.ci, g.co], g.stride, 1, g.pad);
  return info.outShape;
}

export function convInfo(g: ConvGeometry): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo([g.n, g.h, g.w, g.ci], [g.kh, g.kw, g.ci, g.co], g.stride, 1, g.pad);
}
