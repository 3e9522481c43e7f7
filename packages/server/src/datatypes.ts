/**
 * The Open Inference Protocol's tensor datatypes and their onnxruntime counterparts. Binary tensor data is
 * little-endian, row-major, without padding (Triton binary data extension).
 */
export type V2Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export type OrtTensorType =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string';

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

interface DatatypeInfo {
  ort: OrtTensorType;
  bytes: number;
  /** A typed array over little-endian bytes: a view when they are aligned for the type, else a copy. */
  fromBytes?: (bytes: Uint8Array, count: number) => NumericArray;
  create?: (count: number) => NumericArray;
}

interface TypedArrayConstructor<T> {
  new (n: number): T;
  new (buffer: ArrayBufferLike, offset: number, length: number): T;
  BYTES_PER_ELEMENT: number;
}

function typed<T extends NumericArray>(Ctor: TypedArrayConstructor<T>) {
  return {
    create: (count: number) => new Ctor(count),
    fromBytes: (bytes: Uint8Array, count: number) => {
      if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, count);
      const out = new Ctor(count);
      new Uint8Array(out.buffer).set(bytes.subarray(0, count * Ctor.BYTES_PER_ELEMENT));
      return out;
    },
  };
}

export const DATATYPES: Record<V2Datatype, DatatypeInfo> = {
  BOOL: { ort: 'bool', bytes: 1, ...typed(Uint8Array) },
  UINT8: { ort: 'uint8', bytes: 1, ...typed(Uint8Array) },
  UINT16: { ort: 'uint16', bytes: 2, ...typed(Uint16Array) },
  UINT32: { ort: 'uint32', bytes: 4, ...typed(Uint32Array) },
  UINT64: { ort: 'uint64', bytes: 8, ...typed(BigUint64Array) },
  INT8: { ort: 'int8', bytes: 1, ...typed(Int8Array) },
  INT16: { ort: 'int16', bytes: 2, ...typed(Int16Array) },
  INT32: { ort: 'int32', bytes: 4, ...typed(Int32Array) },
  INT64: { ort: 'int64', bytes: 8, ...typed(BigInt64Array) },
  FP16: { ort: 'float16', bytes: 2, ...typed(Uint16Array) },
  FP32: { ort: 'float32', bytes: 4, ...typed(Float32Array) },
  FP64: { ort: 'float64', bytes: 8, ...typed(Float64Array) },
  BYTES: { ort: 'string', bytes: 0 },
};

const ORT_TO_V2 = new Map<string, V2Datatype>(
  Object.entries(DATATYPES).map(([v2, info]) => [info.ort, v2 as V2Datatype]),
);

export function isV2Datatype(value: unknown): value is V2Datatype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DATATYPES, value);
}

export function v2FromOrt(type: string): V2Datatype | undefined {
  return ORT_TO_V2.get(type);
}

/** Copies a typed array's bytes out as a little-endian buffer (every platform Node runs on is little-endian). */
export function toLittleEndianBytes(data: NumericArray | boolean[] | Uint8Array): Buffer {
  if (Array.isArray(data)) return Buffer.from(data.map((b) => (b ? 1 : 0)));
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
