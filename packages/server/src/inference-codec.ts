/**
 * Decoding and encoding of Open Inference Protocol inference messages: the JSON form ($inference_request /
 * $inference_response) and Triton's binary tensor data extension (JSON header of Inference-Header-Content-Length
 * bytes, then each binary tensor's raw little-endian bytes in the order the JSON lists them).
 */
import { DATATYPES, isV2Datatype, toLittleEndianBytes, v2FromOrt, type NumericArray, type V2Datatype } from './datatypes.js';
import type { HostTensor, TensorMap } from './batcher.js';
import { badRequest } from './http-error.js';
import type { TensorSpec } from './models.js';

type Parameters = Record<string, unknown>;

export interface InferenceRequest {
  id?: string;
  parameters?: Parameters;
  inputs: { name: string; shape: number[]; datatype: string; parameters?: Parameters; data?: unknown }[];
  outputs?: { name: string; parameters?: Parameters }[];
}

export interface DecodedRequest {
  id?: string;
  feeds: TensorMap;
  /** Output names to fetch, and whether each goes back as binary data. */
  outputs: { name: string; binary: boolean }[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits a body into its JSON header and binary tail, per Inference-Header-Content-Length. */
export function splitBody(body: Buffer, headerLength: string | undefined): { json: unknown; binary: Buffer } {
  let jsonBytes: Buffer = body;
  let binary: Buffer = Buffer.alloc(0);
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || n > body.length) {
      throw badRequest(`Inference-Header-Content-Length '${headerLength}' is not a byte count within the ${body.length}-byte body`);
    }
    jsonBytes = body.subarray(0, n);
    binary = body.subarray(n);
  }
  try {
    return { json: JSON.parse(jsonBytes.toString('utf8')), binary };
  } catch (error) {
    throw badRequest(`malformed JSON in the inference request: ${(error as Error).message}`);
  }
}

function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

function jsonToTyped(values: unknown[], datatype: V2Datatype, name: string): NumericArray {
  const info = DATATYPES[datatype];
  const out = info.create!(values.length);
  const isFloat = datatype === 'FP32' || datatype === 'FP64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (datatype === 'BOOL') {
      if (typeof v !== 'boolean') throw badRequest(`input '${name}': BOOL data must be true/false, element ${i} is ${JSON.stringify(v)}`);
      out[i] = v ? 1 : 0;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`input '${name}': element ${i} is ${JSON.stringify(v)}, not a finite number`);
    if (!isFloat && !Number.isInteger(v)) throw badRequest(`input '${name}': element ${i} (${v}) is not an integer for ${datatype}`);
    if (datatype === 'INT64' || datatype === 'UINT64') (out as BigInt64Array)[i] = BigInt(v);
    else (out as Float32Array)[i] = v;
  }
  return out;
}

function checkFinite(data: NumericArray, datatype: V2Datatype, name: string): void {
  if (datatype !== 'FP32' && datatype !== 'FP64') return;
  const values = data as Float32Array;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw badRequest(`input '${name}': element ${i} is ${values[i]}; NaN and Infinity are not accepted`);
  }
}

function checkShape(shape: unknown, spec: TensorSpec): number[] {
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
    throw badRequest(`input '${spec.name}': shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (shape.length !== spec.shape.length || shape.some((d, i) => spec.shape[i] !== -1 && spec.shape[i] !== d)) {
    throw badRequest(`input '${spec.name}': shape [${shape.join(',')}] does not match the model's [${spec.shape.join(',')}] (-1 = any)`);
  }
  return shape as number[];
}

/** Validates a request against the model's inputs and outputs and builds the session feeds. */
export function decodeRequest(json: unknown, binary: Buffer, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): DecodedRequest {
  if (!isObject(json)) throw badRequest('the inference request must be a JSON object');
  if (json.id !== undefined && typeof json.id !== 'string') throw badRequest("'id' must be a string");
  if (json.parameters !== undefined && !isObject(json.parameters)) throw badRequest("'parameters' must be an object");
  if (!Array.isArray(json.inputs)) throw badRequest("the request needs an 'inputs' list");
  const feeds: TensorMap = {};
  let offset = 0;
  for (const raw of json.inputs) {
    if (!isObject(raw) || typeof raw.name !== 'string') throw badRequest("every input needs a 'name'");
    const name = raw.name;
    const spec = inputs.find((i) => i.name === name);
    if (!spec) throw badRequest(`unknown input '${name}'; the model's inputs: ${inputs.map((i) => i.name).join(', ')}`);
    if (feeds[name]) throw badRequest(`input '${name}' is given twice`);
    if (!isV2Datatype(raw.datatype)) throw badRequest(`input '${name}': unknown datatype ${JSON.stringify(raw.datatype)}`);
    const datatype = raw.datatype;
    if (datatype !== spec.datatype) throw badRequest(`input '${name}': datatype ${datatype} does not match the model's ${spec.datatype}`);
    if (datatype === 'BYTES') throw badRequest(`input '${name}': BYTES tensors are not supported`);
    const shape = checkShape(raw.shape, spec);
    const count = shape.reduce((n, d) => n * d, 1);
    const params = raw.parameters;
    if (params !== undefined && !isObject(params)) throw badRequest(`input '${name}': 'parameters' must be an object`);
    const binarySize = params?.binary_data_size;
    let data: NumericArray;
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) throw badRequest(`input '${name}': binary_data_size must be a byte count`);
      const expected = count * DATATYPES[datatype].bytes;
      if (binarySize !== expected) throw badRequest(`input '${name}': binary_data_size ${binarySize} does not match shape [${shape.join(',')}] of ${datatype} (${expected} bytes)`);
      if (offset + binarySize > binary.length) throw badRequest(`input '${name}': the binary payload is truncated (needs ${binarySize} bytes at offset ${offset}, ${binary.length - offset} left)`);
      data = DATATYPES[datatype].fromBytes!(binary.subarray(offset, offset + binarySize), count);
      offset += binarySize;
    } else {
      if (raw.data === undefined) throw badRequest(`input '${name}' has neither 'data' nor parameters.binary_data_size`);
      if (datatype === 'FP16') throw badRequest(`input '${name}': send FP16 tensors as binary data`);
      const values: unknown[] = [];
      flatten(raw.data, values);
      if (values.length !== count) throw badRequest(`input '${name}': ${values.length} elements for shape [${shape.join(',')}] (needs ${count})`);
      data = jsonToTyped(values, datatype, name);
    }
    checkFinite(data, datatype, name);
    feeds[name] = { type: DATATYPES[datatype].ort, dims: shape, data };
  }
  if (offset !== binary.length) throw badRequest(`the body has ${binary.length - offset} bytes after the binary inputs the JSON header describes`);
  const missing = inputs.filter((i) => !feeds[i.name]);
  if (missing.length > 0) throw badRequest(`missing input(s): ${missing.map((i) => i.name).join(', ')}`);

  const allBinary = json.parameters?.binary_data_output === true;
  let requested: { name: string; binary: boolean }[];
  if (json.outputs === undefined) {
    requested = outputs.map((o) => ({ name: o.name, binary: allBinary }));
  } else {
    if (!Array.isArray(json.outputs)) throw badRequest("'outputs' must be a list");
    requested = json.outputs.map((o: unknown) => {
      if (!isObject(o) || typeof o.name !== 'string') throw badRequest("every requested output needs a 'name'");
      if (!outputs.some((s) => s.name === o.name)) throw badRequest(`unknown output '${o.name}'; the model's outputs: ${outputs.map((s) => s.name).join(', ')}`);
      const flag = isObject(o.parameters) ? o.parameters.binary_data : undefined;
      return { name: o.name, binary: typeof flag === 'boolean' ? flag : allBinary };
    });
  }
  return { id: json.id as string | undefined, feeds, outputs: requested };
}

function jsonData(tensor: HostTensor): unknown[] {
  if (Array.isArray(tensor.data)) return tensor.data;
  if (tensor.type === 'bool') return Array.from(tensor.data as Uint8Array, (v) => v !== 0);
  if (tensor.data instanceof BigInt64Array || tensor.data instanceof BigUint64Array) return Array.from(tensor.data, (v) => Number(v));
  return Array.from(tensor.data as Float32Array);
}

export interface EncodedResponse {
  body: Buffer | Record<string, unknown>;
  headerLength?: number;
}

/** Builds $inference_response; binary outputs follow the JSON header in the order of `outputs`. */
export function encodeResponse(modelName: string, modelVersion: string, request: DecodedRequest, results: TensorMap): EncodedResponse {
  const tails: Buffer[] = [];
  const outputs = request.outputs.map(({ name, binary }) => {
    const t = results[name];
    const base = { name, datatype: v2FromOrt(t.type) ?? t.type.toUpperCase(), shape: [...t.dims] };
    if (!binary) return { ...base, data: jsonData(t) };
    const bytes = toLittleEndianBytes(t.data as NumericArray);
    tails.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const json = { model_name: modelName, model_version: modelVersion, ...(request.id !== undefined ? { id: request.id } : {}), outputs };
  if (tails.length === 0) return { body: json };
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  return { body: Buffer.concat([header, ...tails]), headerLength: header.length };
}
