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

/** 10^e for e in [-8, 9], as doubles (the nearest double where 10^e is not exact): the decimal exponent's table. */
const EXP10 = Float64Array.from({ length: 18 }, (_, i) => Number(`1e${i - 8}`));
/** "00".."99" as bytes: digits are written two at a time (half the integer divisions). */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i & 1 ? (i >> 1) % 10 : ((i >> 1) / 10) | 0));

/**
 * The decimal exponent e of a in [1e-7, 1e9): 10^e <= a < 10^(e+1), by binary search in EXP10. No float32 equals
 * a power of ten below 1 that its double misses (none lies between 10^e and its nearest double), so the search is
 * exact; Math.log10 costs more and is off by one next to powers of ten.
 */
function decimalExponent(a: number): number {
  let lo = 1; // EXP10[lo] <= a (10^-7)
  let hi = 17; // a < EXP10[hi] (10^9)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (a >= EXP10[mid]) lo = mid;
    else hi = mid;
  }
  return lo - 8;
}

/** Writes the `count` decimal digits of the int32 `m` ending just before `end`, two at a time. */
function writeDigits(out: Uint8Array, end: number, m: number, count: number): void {
  let i = end;
  let v = m | 0;
  for (; count >= 2; count -= 2) {
    const q = (v / 100) | 0;
    const pair = (v - q * 100) << 1;
    out[--i] = DIGIT_PAIRS[pair + 1];
    out[--i] = DIGIT_PAIRS[pair];
    v = q;
  }
  if (count > 0) out[--i] = ZERO + v - ((v / 10) | 0) * 10;
}

/**
 * Writes `m * 10^-k` (m a positive integer below 2^31 with `digits` decimal digits, without trailing zeros) in
 * fixed-point notation at `at`; returns the new offset.
 */
function writeFixed(out: Uint8Array, at: number, m: number, k: number, digits: number): number {
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

/** The shortest round-trip text of a float32 outside the fast path, as a string. */
function slowText(x: number): string {
  for (let p = 1; p <= 9; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === x) return String(v);
  }
  return String(x);
}

/** True when m * 10^-k (m / 10^k: an integer over an exact power of ten, one rounding) reads back as a. */
function readsBack(m: number, k: number, a: number): boolean {
  return Math.fround(m / POW10[k]) === a;
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
    const e = decimalExponent(a);
    // The shortest p significant digits whose rounded decimal m * 10^-k reads back as the same float32 (p <= 9
    // always does). Reading back is monotone in p, so the search starts at 8 digits, where most float32 values
    // land, and steps down while it still holds, or up to 9. k = p - 1 - e stops at 0: large values keep plain
    // integer digits.
    let p = 8;
    let k = p - 1 - e;
    if (k < 0) {
      p -= k;
      k = 0;
    }
    let m = Math.round(a * POW10[k]);
    if (readsBack(m, k, a)) {
      while (k > 0) {
        const shorter = Math.round(a * POW10[k - 1]);
        if (!readsBack(shorter, k - 1, a)) break;
        m = shorter;
        k--;
        p--;
      }
    } else {
      p++;
      k++;
      m = Math.round(a * POW10[k]);
    }
    // 9 significant digits always read back; m is below 10^9 unless rounding carried it to 10^p.
    if (m <= 0x7fffffff && (p < 9 || readsBack(m, k, a))) {
      let digits = m >= POW10[p] ? p + 1 : p;
      // Trailing zeros (a rounding carry, or an integer's zeros) go: the point's position carries them.
      for (let q = (m / 10) | 0; m === q * 10; q = (m / 10) | 0) {
        m = q;
        k--;
        digits--;
      }
      return writeFixed(out, at, m, k, digits);
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
