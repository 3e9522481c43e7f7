/**
 * Accumulates ONNX nodes and initializers while layers are converted, hands out unique value names, and keeps
 * the bookkeeping the converter's graph-level decisions need (which node produced a value, so a
 * BatchNormalization can fold into the Conv before it).
 */
import { endianness } from 'node:os';
import { AttributeType, DataType, type AttributeMessage, type DataTypeCode } from './proto.js';
import type { NodeMessage, TensorMessage } from './proto.js';

/** Attribute values by JS type: integers become INT/INTS, other numbers FLOAT/FLOATS, strings STRING. */
export type AttributeValue = number | string | number[] | { floats: number[] } | { float: number };
export type Attributes = Record<string, AttributeValue | undefined>;

/**
 * A tensor inside the ONNX graph. `channelsFirst` says the ONNX tensor holds a TF.js channels-last tensor with
 * its channel axis moved to position 1 (NHWC -> NCHW, NDHWC -> NCDHW); rank-2/3 tensors stay in TF.js order.
 */
export interface OnnxValue {
  name: string;
  rank: number;
  channelsFirst: boolean;
}

function attribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  return { name, type: AttributeType.FLOAT, f: value.float };
}

type InitializerData = Float32Array | Float64Array | BigInt64Array;

function dataTypeOf(data: InitializerData): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  return data instanceof Float64Array ? DataType.DOUBLE : DataType.INT64;
}

function littleEndianBytes(data: InitializerData): Uint8Array {
  // ONNX raw_data is little-endian and typed arrays use the host's order; the check makes a big-endian host
  // fail loudly instead of writing a model with byte-swapped weights.
  if (endianness() !== 'LE') throw new Error('writing ONNX raw_data needs a little-endian host');
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export class GraphBuilder {
  readonly nodes: NodeMessage[] = [];
  private readonly initializers = new Map<string, { dims: number[]; data: InitializerData }>();
  private readonly producers = new Map<string, NodeMessage>();
  private readonly usedNames = new Set<string>();

  constructor(readonly opset: number) {}

  /** A value name not used before, derived from `base` (ONNX names must be unique in a graph). */
  uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'value';
    let name = clean;
    for (let k = 1; this.usedNames.has(name); k++) name = `${clean}_${k}`;
    this.usedNames.add(name);
    return name;
  }

  /** Claims an exact name (a graph input or output); throws if something already uses it. */
  reserve(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`the name '${name}' is used twice in the graph`);
    this.usedNames.add(name);
    return name;
  }

  /** Appends a one-output node whose output takes a name claimed earlier with `reserve`. */
  opWithReservedOutput(opType: string, inputs: string[], output: string, attributes: Attributes = {}): string {
    if (!this.usedNames.has(output) || this.producers.has(output))
      throw new Error(`internal error: '${output}' was not reserved`);
    const name = this.node(opType, inputs, [`${output}_tmp`], attributes)[0]!;
    const node = this.producers.get(name)!;
    this.usedNames.delete(name);
    this.producers.delete(name);
    node.output[0] = output;
    this.producers.set(output, node);
    return output;
  }

  /** Adds a float32 constant and returns its name. */
  addFloat(base: string, data: Float32Array | number[], dims: number[]): string {
    const name = this.uniqueName(base);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(`internal error: initializer ${name} has ${values.length} values for dims [${dims}]`);
    }
    this.initializers.set(name, { dims, data: values });
    return name;
  }

  /** Adds a float64 constant (statistics computed in double, as rwseg's preprocessing does) and returns its name. */
  addDouble(base: string, values: number[], dims: number[]): string {
    const name = this.uniqueName(base);
    if (values.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(`internal error: initializer ${name} has ${values.length} values for dims [${dims}]`);
    }
    this.initializers.set(name, { dims, data: Float64Array.from(values) });
    return name;
  }

  /** Adds a 1-D int64 constant (shapes, axes, pads) and returns its name. */
  addInt64(base: string, values: number[]): string {
    const name = this.uniqueName(base);
    this.initializers.set(name, { dims: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  /** The float data of an initializer, for in-place rewrites such as folding BatchNormalization into a Conv. */
  floatInitializer(name: string): { dims: number[]; data: Float32Array } | undefined {
    const entry = this.initializers.get(name);
    return entry && entry.data instanceof Float32Array ? { dims: entry.dims, data: entry.data } : undefined;
  }

  /** Appends a node; outputs are fresh unique names derived from `outputBases`. Returns the output names. */
  node(
    opType: string,
    inputs: string[],
    outputBases: string[],
    attributes: Attributes = {},
    nodeName?: string,
  ): string[] {
    const output = outputBases.map((b) => this.uniqueName(b));
    const attribute_ = Object.entries(attributes)
      .filter((e): e is [string, AttributeValue] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    const message: NodeMessage = {
      name: this.uniqueName(nodeName ?? `${opType}_${output[0]}`),
      op_type: opType,
      input: inputs,
      output,
      attribute: attribute_,
    };
    this.nodes.push(message);
    for (const o of output) this.producers.set(o, message);
    return output;
  }

  /** A ReduceMean/ReduceMax/... over `axes`, keeping dims; opset 18 moved `axes` from an attribute to an input. */
  reduce(opType: string, input: string, axes: number[], outputBase: string): string {
    if (this.opset >= 18) {
      return this.op(opType, [input, this.addInt64(`${outputBase}_axes`, axes)], outputBase, { keepdims: 1 });
    }
    return this.op(opType, [input], outputBase, { axes, keepdims: 1 });
  }

  /** One-output convenience over `node`. */
  op(opType: string, inputs: string[], outputBase: string, attributes: Attributes = {}): string {
    return this.node(opType, inputs, [outputBase], attributes)[0]!;
  }

  /** The node that produced `valueName`, if any. */
  producerOf(valueName: string): NodeMessage | undefined {
    return this.producers.get(valueName);
  }

  /** How many nodes read `valueName` so far. */
  consumerCount(valueName: string): number {
    return this.nodes.reduce((n, node) => n + node.input.filter((i) => i === valueName).length, 0);
  }

  tensors(): TensorMessage[] {
    return [...this.initializers].map(([name, { dims, data }]) => ({
      name,
      dims,
      data_type: dataTypeOf(data),
      raw_data: littleEndianBytes(data),
    }));
  }
}
