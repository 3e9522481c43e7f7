import test from 'ava';
import { PNG } from 'pngjs';
import { lineChartSvg, niceTicks, overlayPng } from '../src/index.js';

test('overlays draw the reference contour in yellow and predictions tinted over the grey image', (t) => {
  const shape = [6, 8];
  const image = Float32Array.from({ length: 48 }, (_, i) => i);
  const reference = new Int32Array(48);
  for (const i of [18, 19, 20, 26, 27, 28]) reference[i] = 1; // rows 2-3, columns 2-4
  const prediction = new Int32Array(48);
  prediction[47] = 1;
  const png = PNG.sync.read(overlayPng({ image, prediction, reference, shape }));
  t.is(png.width, 8);
  t.is(png.height, 6);
  const rgb = (i: number) => [...png.data.subarray(i * 4, i * 4 + 3)];
  t.deepEqual(rgb(18), [255, 255, 0]); // contour
  t.deepEqual(rgb(0), [0, 0, 0]); // darkest background pixel
  const tinted = rgb(47);
  t.true(tinted[0]! > tinted[2]!, 'class 1 is tinted red');
});

test('3D overlays show the middle slice', (t) => {
  const shape = [3, 2, 2];
  const prediction = new Int32Array(12);
  prediction[4] = 1; // slice 1, first voxel
  const image = new Float32Array(12).fill(1);
  const png = PNG.sync.read(overlayPng({ image, prediction, shape }));
  t.is(png.width, 2);
  t.notDeepEqual([...png.data.subarray(0, 3)], [...png.data.subarray(4, 7)]);
});

test('nice ticks are round numbers covering the range', (t) => {
  t.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  t.deepEqual(niceTicks(3, 47), [10, 20, 30, 40]);
});

test('charts place the first point at the left axis and the last at the right edge', (t) => {
  const svg = lineChartSvg([{ name: 'loss', points: [[1, 2], [5, 1]] }], { title: 'Loss', width: 200, height: 100 });
  t.regex(svg, /d="M64\.0,[\d.]+L184\.0,[\d.]+"/);
  t.regex(svg, /<text[^>]*>Loss<\/text>/);
});
