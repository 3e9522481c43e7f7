import test from 'ava';
import { createCaseProgressWriter } from '../../src/index.js';

const CASE_LINE = /^evaluate case (\d+)\/(\d+) \((\S+)\) ([\d.]+) cases\/s ETA (\S+)$/;

test('off a terminal: a first line, then one line per interval with case k/N and ETA, and the last case', (t) => {
  let clock = 0;
  const chunks: string[] = [];
  const write = createCaseProgressWriter({ write: (s: string) => chunks.push(s), isTTY: false }, 6, {
    label: 'evaluate',
    intervalSeconds: 10,
    now: () => clock,
  });
  // 4 s per case: lines are due after cases 3 (12 s) and 6 (24 s, also the last).
  for (let c = 0; c < 6; c++) {
    clock += 4000;
    write(c, `case-${c}`);
  }
  const lines = chunks.join('').split('\n').filter(Boolean);
  t.is(lines[0], 'evaluate 6 case(s), progress every 10s');
  const matches = lines.slice(1).map((l) => CASE_LINE.exec(l));
  t.deepEqual(
    matches.map((m) => m && Number(m[1])),
    [3, 6],
  );
  // After case 3: 0.25 cases/s, 3 cases left at 4 s each.
  t.is(matches[0]![3], 'case-2');
  t.is(Number(matches[0]![4]), 0.25);
  t.is(matches[0]![5], '12s');
  t.is(matches[1]![5], '0s');
  t.false(chunks.join('').includes('\r'));
});

test('on a terminal: a bar redrawn per case, cleared after the last', (t) => {
  let clock = 0;
  const chunks: string[] = [];
  const write = createCaseProgressWriter({ write: (s: string) => chunks.push(s), isTTY: true }, 2, {
    now: () => clock,
  });
  clock += 1000;
  write(0, 'a');
  clock += 1000;
  write(1, 'b');
  // eslint-disable-next-line no-control-regex -- the line ends with the terminal's erase-to-end escape
  t.regex(chunks[0]!, /^\r\[#{10}-{10}\] case 1\/2 \(a\) 1\.00 cases\/s ETA 1s\u001b\[K$/);
  t.regex(chunks[1]!, /^\r\[#{20}\] case 2\/2 \(b\)/);
  t.is(chunks[2], '\r\u001b[K');
  t.is(chunks.length, 3);
});
