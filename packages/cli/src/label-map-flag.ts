/**
 * --label-map, spelled the same way in every command: stored label value -> class, as JSON ('{"0": 0, "255": 1}'),
 * as value:class pairs ('0:0,255:1'), or as stored values in class order ('0,255').
 */
import { RwsegError } from '@rwseg/core';

export const LABEL_MAP_HELP =
  'stored label value -> class: \'{"0": 0, "255": 1}\', 0:0,255:1, or values in class order 0,255';

export function parseLabelMapFlag(text: string): Record<string, number> {
  const bad = (why: string) =>
    new RwsegError('INVALID_OPTIONS', `--label-map ${JSON.stringify(text)}: ${why}; use ${LABEL_MAP_HELP}`, {
      option: 'label-map',
    });
  const trimmed = text.trim();
  let entries: [number, number][];
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw bad(`not valid JSON (${(error as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('not a JSON object');
    entries = Object.entries(parsed as Record<string, unknown>).map(([value, cls]) => [Number(value), Number(cls)]);
  } else {
    const parts = trimmed
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    const pairs = parts.every((part) => part.includes(':'));
    if (!pairs && parts.some((part) => part.includes(':'))) throw bad('mixes value:class pairs and plain values');
    entries = pairs
      ? parts.map((part) => part.split(':').map((s) => (s.trim() === '' ? Number.NaN : Number(s))) as [number, number])
      : parts.map((part, index) => [part === '' ? Number.NaN : Number(part), index]);
  }
  if (entries.length === 0) throw bad('no entries');
  const map: Record<string, number> = {};
  for (const [value, cls] of entries) {
    if (!Number.isFinite(value)) throw bad(`stored value ${value} is not a number`);
    if (!Number.isInteger(cls) || cls < 0) throw bad(`class ${cls} for value ${value} is not a non-negative integer`);
    if (String(value) in map) throw bad(`value ${value} is given twice`);
    map[String(value)] = cls;
  }
  return map;
}
