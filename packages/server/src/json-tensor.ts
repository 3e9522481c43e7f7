/**
 * Reading a JSON tensor's `data` (flat or nested, row-major) straight into a pre-sized typed array, and writing
 * a typed array back as a JSON number list. No recursion: a list nested thousands of levels deep is a 400 at
 * the depth limit, never a stack overflow, and reading stops at the first element past the expected count.
 */
import { DATATYPES, type NumericArray, type V2Datatype } from './datatypes.js';
import { float32ListBytes } from './float32-text.js';
import { badRequest, describeValue } from './http-error.js';

const INTEGER_RANGES: Partial<Record<V2Datatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

type Store = (out: NumericArray, i: number, v: unknown) => void;

function storeFor(datatype: V2Datatype, name: string): Store {
  if (datatype === 'BOOL') {
    return (out, i, v) => {
      if (typeof v !== 'boolean')
        throw badRequest(`input '${name}': BOOL data must be true/false, element ${i} is ${describeValue(v)}`);
      out[i] = v ? 1 : 0;
    };
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    return (out, i, v) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw badRequest(`input '${name}': element ${i} is ${describeValue(v)}, not a finite number`);
      out[i] = v;
    };
  }
  const [lo, hi] = INTEGER_RANGES[datatype]!;
  const big = datatype === 'INT64' || datatype === 'UINT64';
  return (out, i, v) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw badRequest(`input '${name}': element ${i} is ${describeValue(v)}, not a finite number`);
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw badRequest(`input '${name}': element ${i} (${v}) is not a ${datatype} integer in [${lo}, ${hi}]`);
    if (big) (out as BigInt64Array)[i] = BigInt(v);
    else out[i] = v;
  };
}

/**
 * `count` elements of `datatype` from `data`, which may nest lists at most `maxDepth` deep (the tensor's rank:
 * the protocol allows flat data or data nested like the shape, nothing deeper).
 */
export function readJsonData(
  data: unknown,
  datatype: V2Datatype,
  count: number,
  maxDepth: number,
  name: string,
  shapeText: string,
): NumericArray {
  const out = DATATYPES[datatype].create!(count);
  const store = storeFor(datatype, name);
  const tooMany = () => badRequest(`input '${name}': more than ${count} elements for shape ${shapeText}`);
  if (!Array.isArray(data)) {
    if (count !== 1)
      throw badRequest(`input '${name}': 'data' must be a list of ${count} elements for shape ${shapeText}`);
    store(out, 0, data);
    return out;
  }
  // The common case, a flat list of numbers: one tight loop.
  let n = 0;
  if (data.length === count && (count === 0 || !Array.isArray(data[0]))) {
    for (; n < count; n++) {
      const v = data[n];
      if (Array.isArray(v)) break;
      store(out, n, v);
    }
    if (n === count) return out;
  }
  // Nested lists: an explicit stack of (list, next index), so depth costs heap, not stack, and is capped.
  n = 0;
  const lists: unknown[][] = [data];
  const next: number[] = [0];
  while (lists.length > 0) {
    const top = lists.length - 1;
    const list = lists[top];
    const i = next[top];
    if (i >= list.length) {
      lists.pop();
      next.pop();
      continue;
    }
    next[top] = i + 1;
    const v = list[i];
    if (Array.isArray(v)) {
      if (lists.length >= maxDepth)
        throw badRequest(
          `input '${name}': 'data' is nested deeper than the ${maxDepth} level(s) of shape ${shapeText}`,
        );
      lists.push(v);
      next.push(0);
      continue;
    }
    if (n >= count) throw tooMany();
    store(out, n, v);
    n++;
  }
  if (n !== count) throw badRequest(`input '${name}': ${n} elements for shape ${shapeText} (needs ${count})`);
  return out;
}

/** True when every element can be written as a JSON number (NaN and Infinity cannot). */
function allFinite(data: NumericArray): boolean {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return true;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}

/**
 * A typed array as the text of a JSON list. Number.prototype.toString is the algorithm JSON.stringify uses for
 * finite numbers, so typed-array join gives the same text without an intermediate array of boxed numbers; BigInt
 * elements come out exactly. Non-finite floats become null, as JSON.stringify writes them.
 */
export function jsonListText(data: NumericArray, bool: boolean): string {
  if (bool) return `[${Array.from(data as Uint8Array, (v) => (v !== 0 ? 'true' : 'false')).join(',')}]`;
  if (allFinite(data)) return `[${data.join(',')}]`;
  return JSON.stringify(Array.from(data as Float32Array));
}

/**
 * A typed array as the bytes of a JSON list, or of a run of its elements when `open`/`close` are false (chunks
 * of one long list). Float32 values are written as their shortest float32 text (float32-text.ts), other types
 * as jsonListText writes them.
 */
export function jsonListBytes(data: NumericArray, bool: boolean, open = true, close = true): Buffer {
  if (data instanceof Float32Array) return float32ListBytes(data, open, close);
  const text = jsonListText(data, bool);
  return Buffer.from(open && close ? text : text.slice(open ? 0 : 1, close ? text.length : -1));
}
