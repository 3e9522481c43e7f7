/**
 * Decoding and encoding of Open Inference Protocol inference messages: the JSON form ($inference_request /
 * $inference_response) and Triton's binary tensor data extension (JSON header of Inference-Header-Content-Length
 * bytes, then each binary tensor's raw little-endian bytes in the order the JSON lists them).
 *
 * Every check that depends only on the request runs here, before onnxruntime sees anything, and every value
 * echoed into an error message is clipped, so no request can cause a 5xx or an unbounded answer.
 */
import { Readable } from 'node:stream';
import {
  DATATYPES,
  isV2Datatype,
  toLittleEndianBytes,
  v2FromOrt,
  type NumericArray,
  type V2Datatype,
} from './datatypes.js';
import type { HostTensor, TensorMap } from './batcher.js';
import { badRequest, clip, describeShape, describeValue, HttpError } from './http-error.js';
import { jsonListBytes, readJsonData } from './json-tensor.js';
import type { TensorSpec } from './models.js';

export interface DecodedRequest {
  id?: string;
  feeds: TensorMap;
  /** Output names to fetch, and whether each goes back as binary data. */
  outputs: { name: string; binary: boolean }[];
}

export interface DecodeLimits {
  /** Most elements one input tensor may hold (413 beyond: the server's --max-voxels). */
  maxElements: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits a body into its JSON header and binary tail, per Inference-Header-Content-Length. */
export function splitBody(body: Buffer, headerLength: string | undefined): { json: unknown; binary: Buffer } {
  let jsonBytes: Buffer = body;
  let binary: Buffer = Buffer.alloc(0);
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || n > body.length) {
      throw badRequest(
        `Inference-Header-Content-Length '${clip(headerLength, 20)}' is not a byte count ` +
          `within the ${body.length}-byte body`,
      );
    }
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  try {
    // V8's JSON.parse is iterative, so deep nesting costs memory (bounded by the body limit), not stack.
    return { json: JSON.parse(jsonBytes.toString('utf8')), binary };
  } catch (error) {
    throw badRequest(`malformed JSON in the inference request: ${clip((error as Error).message, 120)}`);
  }
}

function checkFinite(data: NumericArray, datatype: V2Datatype, name: string): void {
  if (datatype !== 'FP32' && datatype !== 'FP64') return;
  const values = data as Float32Array;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]))
      throw badRequest(`input '${name}': element ${i} is ${values[i]}; NaN and Infinity are not accepted`);
  }
}

function checkShape(shape: unknown, spec: TensorSpec): number[] {
  if (
    !Array.isArray(shape) ||
    shape.length > 16 ||
    shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
  ) {
    throw badRequest(
      `input '${spec.name}': shape must be a list of at most 16 non-negative integers, got ${describeShape(shape)}`,
    );
  }
  if (shape.length !== spec.shape.length || shape.some((d, i) => spec.shape[i] !== -1 && spec.shape[i] !== d)) {
    throw badRequest(
      `input '${spec.name}': shape [${shape.join(',')}] does not match ` +
        `the model's [${spec.shape.join(',')}] (-1 = any)`,
    );
  }
  return shape as number[];
}

/** Validates a request against the model's inputs and outputs and builds the session feeds. */
export function decodeRequest(
  json: unknown,
  binary: Buffer,
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
  limits: DecodeLimits,
): DecodedRequest {
  if (!isObject(json)) throw badRequest('the inference request must be a JSON object');
  if (json.id !== undefined && typeof json.id !== 'string') throw badRequest("'id' must be a string");
  if (json.parameters !== undefined && !isObject(json.parameters)) throw badRequest("'parameters' must be an object");
  if (!Array.isArray(json.inputs)) throw badRequest("the request needs an 'inputs' list");
  const feeds: TensorMap = {};
  const inputNames = () => clip(inputs.map((i) => i.name).join(', '), 200);
  let offset = 0;
  for (const raw of json.inputs) {
    if (!isObject(raw) || typeof raw.name !== 'string') throw badRequest("every input needs a 'name'");
    const name = raw.name;
    const spec = inputs.find((i) => i.name === name);
    if (!spec) throw badRequest(`unknown input '${clip(name)}'; the model's inputs: ${inputNames()}`);
    if (feeds[name]) throw badRequest(`input '${name}' is given twice`);
    if (!isV2Datatype(raw.datatype))
      throw badRequest(`input '${name}': unknown datatype ${describeValue(raw.datatype)}`);
    const datatype = raw.datatype;
    if (datatype !== spec.datatype)
      throw badRequest(`input '${name}': datatype ${datatype} does not match the model's ${spec.datatype}`);
    if (datatype === 'BYTES') throw badRequest(`input '${name}': BYTES tensors are not supported`);
    const shape = checkShape(raw.shape, spec);
    const shapeText = `[${shape.join(',')}]`;
    const count = shape.reduce((n, d) => n * d, 1);
    if (count > limits.maxElements) {
      throw new HttpError(
        413,
        `input '${name}': shape ${shapeText} holds ${count} elements, ` +
          `more than the server's limit of ${limits.maxElements} (--max-voxels)`,
      );
    }
    const params = raw.parameters;
    if (params !== undefined && !isObject(params)) throw badRequest(`input '${name}': 'parameters' must be an object`);
    const binarySize = params?.binary_data_size;
    let data: NumericArray;
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0)
        throw badRequest(`input '${name}': binary_data_size must be a byte count`);
      const expected = count * DATATYPES[datatype].bytes;
      if (binarySize !== expected)
        throw badRequest(
          `input '${name}': binary_data_size ${binarySize} does not match ` +
            `shape ${shapeText} of ${datatype} (${expected} bytes)`,
        );
      if (offset + binarySize > binary.length)
        throw badRequest(
          `input '${name}': the binary payload is truncated ` +
            `(needs ${binarySize} bytes at offset ${offset}, ${binary.length - offset} left)`,
        );
      data = DATATYPES[datatype].fromBytes!(binary.subarray(offset, offset + binarySize), count);
      offset += binarySize;
      checkFinite(data, datatype, name);
    } else {
      if (raw.data === undefined)
        throw badRequest(`input '${name}' has neither 'data' nor parameters.binary_data_size`);
      if (datatype === 'FP16') throw badRequest(`input '${name}': send FP16 tensors as binary data`);
      data = readJsonData(raw.data, datatype, count, Math.max(1, shape.length), name, shapeText);
    }
    feeds[name] = { type: DATATYPES[datatype].ort, dims: shape, data };
  }
  if (offset !== binary.length)
    throw badRequest(`the body has ${binary.length - offset} bytes after the binary inputs the JSON header describes`);
  const missing = inputs.filter((i) => !feeds[i.name]);
  if (missing.length > 0) throw badRequest(`missing input(s): ${missing.map((i) => i.name).join(', ')}`);

  const allBinary = json.parameters?.binary_data_output === true;
  let requested: { name: string; binary: boolean }[];
  if (json.outputs === undefined) {
    requested = outputs.map((o) => ({ name: o.name, binary: allBinary }));
  } else {
    if (!Array.isArray(json.outputs)) throw badRequest("'outputs' must be a list");
    const seen = new Set<string>();
    requested = json.outputs.map((o: unknown) => {
      if (!isObject(o) || typeof o.name !== 'string') throw badRequest("every requested output needs a 'name'");
      const name = o.name;
      if (!outputs.some((s) => s.name === name)) {
        throw badRequest(
          `unknown output '${clip(name)}'; the model's outputs: ${clip(outputs.map((s) => s.name).join(', '), 200)}`,
        );
      }
      // Each output is computed once; asking for it again would only multiply the answer's size.
      if (seen.has(name)) throw badRequest(`output '${name}' is requested more than once`);
      seen.add(name);
      const flag = isObject(o.parameters) ? o.parameters.binary_data : undefined;
      return { name, binary: typeof flag === 'boolean' ? flag : allBinary };
    });
  }
  return { id: json.id as string | undefined, feeds, outputs: requested };
}

export interface EncodedResponse {
  /**
   * The answer: its bytes as buffers to be written one after another (the JSON text, then each binary output's
   * own buffer: nothing is concatenated), or a stream for large JSON answers.
   */
  body: Buffer[] | Readable;
  /** The binary extension's JSON header length, when binary outputs follow it. */
  headerLength?: number;
}

/** JSON outputs with more elements than this are streamed, so an answer is never held twice in memory as text. */
const STREAM_ELEMENTS = 1 << 20;
/** Elements per chunk of a streamed JSON list. */
const CHUNK_ELEMENTS = 1 << 16;

function datatypeOf(t: HostTensor): string {
  return v2FromOrt(t.type) ?? t.type.toUpperCase();
}

function outputHead(name: string, t: HostTensor): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${datatypeOf(t)}","shape":[${t.dims.join(',')}]`;
}

/** A tensor's data as the bytes of a JSON list (string tensors, arrays from onnxruntime, via JSON.stringify). */
function dataBytes(t: HostTensor): Buffer {
  return Array.isArray(t.data) ? Buffer.from(JSON.stringify(t.data)) : jsonListBytes(t.data, t.type === 'bool');
}

/** One tensor's JSON list in chunks of CHUNK_ELEMENTS elements, so the whole text never exists at once. */
function* jsonChunks(t: HostTensor): Generator<Buffer> {
  if (Array.isArray(t.data) || t.data.length === 0) {
    yield dataBytes(t);
    return;
  }
  const data = t.data;
  const bool = t.type === 'bool';
  for (let start = 0; start < data.length; start += CHUNK_ELEMENTS) {
    const end = Math.min(data.length, start + CHUNK_ELEMENTS);
    const chunk = data.subarray(start, end) as NumericArray;
    // Each chunk is part of one JSON list: the first opens it, the last closes it, the others follow a comma.
    if (start > 0) yield COMMA;
    yield jsonListBytes(chunk, bool, start === 0, end === data.length);
  }
}

const COMMA = Buffer.from(',');

/**
 * Builds $inference_response; binary outputs follow the JSON header in the order of `outputs`. The JSON is
 * written as bytes directly from the output tensors (no intermediate arrays of boxed numbers, no JSON.stringify
 * over the data), and binary outputs are their tensors' own bytes.
 */
export function encodeResponse(
  modelName: string,
  modelVersion: string,
  request: DecodedRequest,
  results: TensorMap,
): EncodedResponse {
  const tails: Buffer[] = [];
  const parts: (string | HostTensor)[] = [];
  let jsonElements = 0;
  let text = `{"model_name":${JSON.stringify(modelName)},"model_version":${JSON.stringify(modelVersion)}`;
  if (request.id !== undefined) text += `,"id":${JSON.stringify(request.id)}`;
  text += ',"outputs":[';
  request.outputs.forEach(({ name, binary }, i) => {
    const t = results[name];
    if (i > 0) text += ',';
    text += outputHead(name, t);
    if (binary) {
      const bytes = toLittleEndianBytes(t.data as NumericArray);
      tails.push(bytes);
      text += `,"parameters":{"binary_data_size":${bytes.length}}}`;
      return;
    }
    text += ',"data":';
    parts.push(text, t);
    jsonElements += t.data.length;
    text = '}';
  });
  text += ']}';
  parts.push(text);
  if (jsonElements > STREAM_ELEMENTS && tails.length === 0) {
    return {
      body: Readable.from(
        (function* () {
          for (const part of parts) {
            if (typeof part === 'string') yield Buffer.from(part);
            else yield* jsonChunks(part);
          }
        })(),
        { objectMode: false },
      ),
    };
  }
  const json = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : dataBytes(p)));
  if (tails.length === 0) return { body: json };
  const headerLength = json.reduce((n, b) => n + b.length, 0);
  return { body: [...json, ...tails], headerLength };
}
