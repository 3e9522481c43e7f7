import test from 'ava';
import { PNG } from 'pngjs';
import {
  bestValidatedEpoch,
  integerTicks,
  lineChartSvg,
  niceTicks,
  overlayFigurePng,
  overlayPng,
  trainingCurveSvgs,
} from '../../src/index.js';

test('overlays draw the reference contour in yellow and predictions tinted over the gray image', (t) => {
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

/** The numbers of an SVG element's attributes, e.g. rect(svg, 'plot-area') -> { x, y, width, height }. */
function attributes(svg: string, cls: string): Record<string, number> {
  const tag = new RegExp(`<\\w+ class="${cls}"([^>]*)>`).exec(svg);
  if (!tag) throw new Error(`no element of class ${cls}`);
  return Object.fromEntries([...tag[1]!.matchAll(/(\w+)="(-?[\d.]+)"/g)].map((m) => [m[1]!, Number(m[2])]));
}

function pathPoints(svg: string): [number, number][] {
  return [...svg.matchAll(/<path class="series"[^>]* d="([^"]*)"/g)].flatMap((m) =>
    [...m[1]!.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])] as [number, number]),
  );
}

test('charts place the first point at the left axis and the last at the right edge of the data area', (t) => {
  const svg = lineChartSvg(
    [
      {
        name: 'loss',
        points: [
          [1, 2],
          [5, 1],
        ],
      },
    ],
    { title: 'Loss', width: 300, height: 100 },
  );
  const plot = attributes(svg, 'plot-area');
  t.is(plot.x, 64);
  const points = pathPoints(svg);
  t.deepEqual(
    points.map((p) => p[0]),
    [plot.x!, plot.x! + plot.width!],
  );
  t.regex(svg, /<text[^>]*>Loss<\/text>/);
});

test('the legend sits outside the data area: no curve point falls inside its box', (t) => {
  // Rising Dice curves end in the top right corner, where a legend inside the plot used to cover them.
  const rising = (k: number) => ({
    name: `structure ${k}`,
    points: [1, 2, 3, 4, 5].map((e) => [e, 0.2 * e - 0.01 * k] as [number, number]),
  });
  const svg = lineChartSvg([rising(1), rising(2), rising(3)], { title: 'Validation Dice', width: 640, height: 360 });
  const plot = attributes(svg, 'plot-area');
  const legend = attributes(svg, 'legend-box');
  t.true(legend.x! >= plot.x! + plot.width!, 'the legend starts right of the data area');
  t.true(legend.x! + legend.width! <= 640, 'and fits in the image');
  for (const [x, y] of pathPoints(svg)) {
    const inside =
      x >= legend.x! && x <= legend.x! + legend.width! && y >= legend.y! && y <= legend.y! + legend.height!;
    t.false(inside, `point ${x},${y}`);
  }
});

test('epoch ticks are whole numbers, however few epochs', (t) => {
  t.deepEqual(integerTicks(1, 2), [1, 2]);
  t.deepEqual(integerTicks(1, 3), [1, 2, 3]);
  t.deepEqual(integerTicks(1, 50), [10, 20, 30, 40, 50]);
  t.deepEqual(integerTicks(1.5, 1.9), []);
  for (let hi = 2; hi < 200; hi += 7) t.true(integerTicks(1, hi).every(Number.isInteger), `1..${hi}`);
  const svg = lineChartSvg(
    [
      {
        name: 'loss',
        points: [
          [1, 0.9],
          [2, 0.8],
        ],
      },
    ],
    { title: 'Loss', integerX: true },
  );
  t.deepEqual(
    [...svg.matchAll(/class="x-tick"[^>]*>([^<]*)</g)].map((m) => m[1]),
    ['1', '2'],
  );
});

test('training curves name the classes, mark the best epoch and plot the validation loss when there is one', (t) => {
  const classes = (d1: number, d2: number) => [
    { classIndex: 1, dice: { mean: d1 }, hd95: { mean: 5 } },
    { classIndex: 2, dice: { mean: d2 }, hd95: { mean: 4 } },
  ];
  const history = [
    { epoch: 1, loss: 0.9, validationLoss: 0.95, validation: { meanDice: 0.5, classes: classes(0.6, 0.4) } },
    { epoch: 2, loss: 0.7, validationLoss: 0.8, validation: { meanDice: 0.7, classes: classes(0.8, 0.6) } },
    { epoch: 3, loss: 0.6, validationLoss: 0.85, validation: { meanDice: 0.65, classes: classes(0.7, 0.6) } },
  ];
  t.deepEqual(bestValidatedEpoch(history), { epoch: 2, dice: 0.7 });
  const svgs = trainingCurveSvgs(history, { classNames: ['background', 'anterior', 'posterior'] });
  t.deepEqual(Object.keys(svgs).sort(), ['loss.svg', 'validation-dice.svg', 'validation-hd95.svg']);
  t.deepEqual(
    [...svgs['validation-dice.svg']!.matchAll(/data-name="([^"]*)"/g)].map((m) => m[1]),
    ['anterior', 'posterior'],
  );
  t.deepEqual(
    [...svgs['loss.svg']!.matchAll(/data-name="([^"]*)"/g)].map((m) => m[1]),
    ['training loss', 'validation loss'],
  );
  for (const svg of Object.values(svgs)) {
    t.regex(svg, /best epoch 2 \(mean Dice 0\.700\)/);
    const marker = attributes(svg, 'marker');
    const plot = attributes(svg, 'plot-area');
    // Epochs 1..3 over the data area's width: epoch 2 is its middle.
    t.is(marker.x1, plot.x! + plot.width! / 2);
  }
});

test('overlay figures have a title, a class key with the case Dice, and the image enlarged between them', (t) => {
  const shape = [16, 16];
  const image = Float32Array.from({ length: 256 }, (_, i) => i % 16);
  const reference = new Int32Array(256);
  const prediction = new Int32Array(256);
  for (let i = 0; i < 256; i++) if (i % 16 < 8) reference[i] = prediction[i] = 1;
  const { png, layout } = overlayFigurePng({
    image,
    prediction,
    reference,
    shape,
    title: 'case_7, epoch 3',
    classNames: ['background', 'nucleus'],
    dice: [NaN, 0.912],
  });
  const decoded = PNG.sync.read(png);
  t.is(decoded.width, layout.width);
  t.is(decoded.height, layout.height);
  t.is(layout.image.scale, 16);
  t.is(layout.image.width, 256);
  const rgb = (x: number, y: number) => [
    ...decoded.data.subarray((y * decoded.width + x) * 4, (y * decoded.width + x) * 4 + 3),
  ];
  // The bare overlay, enlarged: a pixel of the image's right half is the gray ramp's brightest column.
  t.deepEqual(rgb(layout.image.x + 15 * 16 + 8, layout.image.y + 8), [255, 255, 255]);
  const darkRows = (y0: number, y1: number) => {
    let n = 0;
    for (let y = y0; y < y1; y++) for (let x = 0; x < decoded.width; x++) if (rgb(x, y).every((v) => v < 100)) n++;
    return n;
  };
  t.true(darkRows(0, layout.image.y) > 50, 'a title above the image');
  t.true(darkRows(layout.image.y + layout.image.height, layout.height) > 100, 'a key below it');
  // The key's first swatch is class 1's tint color.
  const keyY = layout.image.y + layout.image.height + 8;
  t.deepEqual(rgb(12, keyY + 5), [230, 25, 75]);
});
