/**
 * ModelProto writer and reader over the package's own ONNX schema subset (./schema.ts), with plain TypeScript
 * shapes for the messages so the converter never touches protobufjs types.
 */
import protobuf from 'protobufjs';
import { ONNX_SUBSET_PROTO } from './schema.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: DataTypeCode;
  /** Little-endian element bytes. */
  raw_data: Uint8Array;
}

export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
}

export interface NodeMessage {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeMessage[];
  domain?: string;
}

/** A dimension is a fixed size or a symbolic name (dynamic). */
export type DimMessage = { dim_value: number } | { dim_param: string };

export interface ValueInfoMessage {
  name: string;
  type: { tensor_type: { elem_type: DataTypeCode; shape: { dim: DimMessage[] } } };
  doc_string?: string;
}

export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
  doc_string?: string;
}

export interface ModelMessage {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphMessage;
  metadata_props: { key: string; value: string }[];
}

let modelType: protobuf.Type | undefined;

function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_SUBSET_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Serializes a model to the bytes of an .onnx file. */
export function encodeModel(model: ModelMessage): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`internal error: ONNX ModelProto does not match the schema: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parses .onnx bytes back into plain objects (int64 as numbers, bytes as Uint8Array); for tests and tools. */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), {
    longs: Number,
    enums: Number,
    defaults: false,
    arrays: true,
  }) as ModelMessage;
}
