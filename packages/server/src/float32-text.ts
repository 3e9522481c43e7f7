/**
 * Float32 tensor values as JSON number text, written straight into bytes. Each value is written as the shortest
 * decimal that reads back as the same float32 (what numpy and Python print for a float32), not as the 17-digit
 * text of the float32 widened to a double that Number#toString and JSON.stringify give: about half the bytes and
 * several times faster, and any client that reads an FP32 output into float32 gets exactly the values onnxruntime
 * returned. A JSON parser reads the text as the nearest double, which rounds to the same float32.
 */

/** Bytes one value may take, its comma included ('-0.000000123456789,' is the longest fixed-point form). */
export const MAX_FLOAT32_TEXT_BYTES = 20;

const COMMA = 0x2c;
const MINUS = 0x2d;
const POINT = 0x2e;
const ZERO = 0x30;
const NULL_TEXT = Buffer.from('null');

// Powers of ten parsed from text, so each is the exact double (every one up to 1e22 is representable).
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** The fixed-point fast path covers 1e-7 <= |x| < 1e9, where every scale below is an exact power of ten. */
const FAST_MIN = 1e-7;
const FAST_MAX = 1e9;

/** Decimal digits of a positive integer below 2^31. */
function digitCount(m: number): number {
  let n = 1;
  while (n < 10 && m >= POW10[n]) n++;
  return n;
}

/** Writes the `count` decimal digits of the int32 `m` ending just before `end` (int arithmetic: no fmod). */
function writeDigits(out: Uint8Array, end: number, m: number, count: number): void {
  for (let i = end - 1, v = m | 0; i >= end - count; i--) {
    const q = (v / 10) | 0;
    out[i] = ZERO + v - q * 10;
    v = q;
  }
}

/**
 * Writes `m * 10^-k` (m a positive integer below 2^31 without trailing zeros) in fixed-point notation at `at`;
 * returns the new offset.
 */
function writeFixed(out: Uint8Array, at: number, m: number, k: number): number {
  const digits = digitCount(m);
  const intDigits = digits - k;
  if (k <= 0) {
    // An integer: its digits, then -k zeros.
    writeDigits(out, at + digits, m, digits);
    at += digits;
    for (let i = 0; i < -k; i++) out[at++] = ZERO;
    return at;
  }
  if (intDigits > 0) {
    // ddd.ddd: the point after intDigits digits.
    const scale = POW10[k];
    const whole = Math.floor(m / scale);
    writeDigits(out, at + intDigits, whole, intDigits);
    out[at + intDigits] = POINT;
    writeDigits(out, at + digits + 1, m - whole * scale, k);
    return at + digits + 1;
  }
  // 0.000ddd
  out[at++] = ZERO;
  out[at++] = POINT;
  for (let i = 0; i < -intDigits; i++) out[at++] = ZERO;
  writeDigits(out, at + digits, m, digits);
  return at + digits;
}

/** The shortest round-trip text of a float32 outside the fast path (or where it could not decide), as a string. */
function slowText(x: number): string {
  for (let p = 1; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return String(v);
  }
  return String(x);
}

/**
 * Writes one float32 value `x` (already widened to a double) at `at` and returns the new offset. Non-finite
 * values are written as null, as JSON.stringify does; -0 as 0.
 */
export function writeFloat32(out: Uint8Array, at: number, x: number): number {
  if (x === 0) {
    out[at] = ZERO;
    return at + 1;
  }
  if (x !== x || x === Infinity || x === -Infinity) {
    out.set(NULL_TEXT, at);
    return at + 4;
  }
  let a = x;
  if (a < 0) {
    out[at++] = MINUS;
    a = -a;
  }
  if (a >= FAST_MIN && a < FAST_MAX) {
    // e: the decimal exponent, 10^e <= a < 10^(e+1). Where log10 is off by one (next to a power of ten) the
    // digits come out one too few or too many, and the checks below send the value to the slow path.
    const e = Math.floor(Math.log10(a));
    // Fewer and fewer significant digits while the rounded decimal m * 10^-k still reads back as the same
    // float32; m / 10^k is the exactly rounded double of that decimal (an integer over an exact power of ten).
    // Stopping at k = 0 keeps large values in plain integer digits.
    let bestM = -1;
    let bestK = 0;
    for (let p = 9; p >= 1; p--) {
      const k = p - 1 - e;
      if (k < 0) break;
      const m = Math.round(a * POW10[k]);
      if (Math.fround(m / POW10[k]) !== a) break;
      bestM = m;
      bestK = k;
    }
    if (bestM > 0 && bestM <= 0x7fffffff) {
      for (let q = (bestM / 10) | 0; bestM === q * 10; q = (bestM / 10) | 0) {
        bestM = q;
        bestK--;
      }
      return writeFixed(out, at, bestM, bestK);
    }
  }
  const text = slowText(a);
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * A float32 array as the bytes of a JSON list ('[v,v,...]'), or of its inner part when `open`/`close` are false
 * (so chunks of one long list can be written one after another).
 */
export function float32ListBytes(data: Float32Array, open = true, close = true): Buffer {
  const out = Buffer.allocUnsafe(data.length * MAX_FLOAT32_TEXT_BYTES + 2);
  let at = 0;
  if (open) out[at++] = 0x5b;
  for (let i = 0; i < data.length; i++) {
    if (i > 0) out[at++] = COMMA;
    at = writeFloat32(out, at, data[i]);
  }
  if (close) out[at++] = 0x5d;
  return out.subarray(0, at);
}
