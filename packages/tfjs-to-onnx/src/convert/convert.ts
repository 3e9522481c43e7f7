/**
 * TF.js LayersModel -> ONNX ModelProto. The model's graph is walked from its outputs back to its inputs (so
 * shared layers and functional graphs of any shape work), each layer call is converted by the converter
 * registered for its class, and the result is one ONNX graph whose interface keeps TF.js's channels-last layout:
 * rank-4/5 inputs are transposed to channels-first on entry and back on exit (see docs/export.md).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { TfjsToOnnxError } from '../errors.js';
import { GraphBuilder, type OnnxValue } from '../onnx/graph-builder.js';
import { DataType, encodeModel, type DimMessage, type ValueInfoMessage } from '../onnx/proto.js';
import { registerBuiltinConverters } from '../layers/builtin.js';
import { TFJS_TO_ONNX_VERSION } from '../version.js';
import { toChannelsFirst, toChannelsLastPerm } from './layout.js';
import { layerConverter, registeredLayerClasses, type LayerConversionContext, type LayerWeight } from './registry.js';
import { planSelfContained, type SelfContainedOptions } from '../self-contained/index.js';

registerBuiltinConverters();

export const MIN_OPSET = 17;
export const MAX_OPSET = 21;
const IR_VERSION_FOR_OPSET: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** One graph input or output: its ONNX name, dtype and TF.js-layout shape (strings name dynamic dims). */
export interface TensorSpec {
  name: string;
  /** float32 for images and probabilities; uint8 for the label output of a self-contained export. */
  dtype: 'float32' | 'uint8';
  shape: (number | string)[];
  /** 'NHWC'/'NDHWC' for images and volumes, 'NHW'/'NDHW' for labels, 'NC' etc. for others; TF.js's order. */
  layout: string;
}

export interface ModelIO {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export interface ConvertOptions {
  /** ONNX opset, 17 (default) to 21. */
  opset?: number;
  /** Graph input names; default 'input' (or 'input_0', 'input_1', ... for several). */
  inputNames?: string[];
  /** Graph output names; default 'output' (or 'output_0', ...). */
  outputNames?: string[];
  /** Stored as ModelProto.metadata_props. */
  metadataProps?: Record<string, string>;
  docString?: string;
  /**
   * Makes the graph callable on raw whole images: dynamic spatial dims with in-graph padding to the size grid,
   * the training normalization inside, an optional uint8 label output (see docs/export.md). Needs one rank-4/5
   * input and one output.
   */
  selfContained?: SelfContainedOptions;
}

export interface ConversionResult {
  /** The .onnx file's bytes. */
  bytes: Uint8Array;
  io: ModelIO;
  opset: number;
}

type SymbolicTensor = tfl.SymbolicTensor;
type LayerNode = tfl.layers.Layer['inboundNodes'][number];

const SPATIAL_NAMES: Record<number, string[]> = {
  3: ['length'],
  4: ['height', 'width'],
  5: ['depth', 'height', 'width'],
};
const LAYOUTS: Record<number, string> = { 2: 'NC', 3: 'NLC', 4: 'NHWC', 5: 'NDHWC' };

function defaultNames(given: string[] | undefined, count: number, base: string, what: string): string[] {
  if (given) {
    if (given.length !== count)
      throw new TfjsToOnnxError('INVALID_OPTION', `${what}: ${given.length} names given for a model with ${count}`, {
        given,
      });
    return given;
  }
  return count === 1 ? [base] : Array.from({ length: count }, (_, i) => `${base}_${i}`);
}

/** Symbolic names for a TF.js shape's null dims: 'batch' first, then the spatial names, prefixed by `prefix`. */
function specShape(shape: (number | null)[], prefix: string): (number | string)[] {
  const spatial = SPATIAL_NAMES[shape.length] ?? [];
  return shape.map((d, i) => {
    if (d != null) return d;
    if (i === 0) return 'batch';
    return `${prefix}${spatial[i - 1] ?? `dim${i}`}`;
  });
}

function valueInfo(spec: TensorSpec): ValueInfoMessage {
  const dim: DimMessage[] = spec.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  const elemType = spec.dtype === 'uint8' ? DataType.UINT8 : DataType.FLOAT;
  return { name: spec.name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

function layerWeights(layer: tfl.layers.Layer): LayerWeight[] {
  return layer.weights.map((w) => {
    const t = w.read();
    if (t.dtype !== 'float32')
      throw new TfjsToOnnxError(
        'INVALID_MODEL',
        `layer '${layer.name}': weight ${w.name} is ${t.dtype}, only float32 is converted`,
      );
    return {
      name: w.originalName ?? w.name,
      shape: [...t.shape],
      data: Float32Array.from(t.dataSync() as Float32Array),
    };
  });
}

/** Nodes (layer calls) reachable from the outputs, in an order where every node follows its inputs' nodes. */
function orderedNodes(model: tfl.LayersModel): { nodes: LayerNode[]; consumers: Map<number, number> } {
  const inputIds = new Set(model.inputs.map((t) => t.id));
  const seen = new Set<LayerNode>();
  const nodes: LayerNode[] = [];
  const consumers = new Map<number, number>();
  const visit = (t: SymbolicTensor): void => {
    if (inputIds.has(t.id)) return;
    const node = t.sourceLayer.inboundNodes[t.nodeIndex];
    if (!node)
      throw new TfjsToOnnxError(
        'INVALID_MODEL',
        `tensor '${t.name}' has no producing node in layer '${t.sourceLayer.name}'`,
      );
    if (seen.has(node)) return;
    seen.add(node);
    if (t.sourceLayer.getClassName() === 'InputLayer') {
      throw new TfjsToOnnxError(
        'INVALID_MODEL',
        `input layer '${t.sourceLayer.name}' feeds the outputs but is not one of the model's inputs`,
      );
    }
    for (const input of node.inputTensors) {
      consumers.set(input.id, (consumers.get(input.id) ?? 0) + 1);
      visit(input);
    }
    nodes.push(node);
  };
  for (const t of model.outputs) {
    consumers.set(t.id, (consumers.get(t.id) ?? 0) + 1);
    visit(t);
  }
  return { nodes, consumers };
}

function unsupportedLayer(layer: tfl.layers.Layer, index: number, reason: string): TfjsToOnnxError {
  const cls = layer.getClassName();
  return new TfjsToOnnxError(
    'UNSUPPORTED_LAYER',
    `cannot convert layer '${layer.name}' (class ${cls}, index ${index}) to ONNX: ${reason}`,
    { layer: layer.name, className: cls, index },
  );
}

/**
 * Converts a built TF.js LayersModel (functional or Sequential, float32) to ONNX. Layers whose class has no
 * registered converter fail with UNSUPPORTED_LAYER naming the layer, its class and its index in `model.layers`.
 */
export function convertLayersModel(model: tfl.LayersModel, options: ConvertOptions = {}): ConversionResult {
  const opset = options.opset ?? MIN_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new TfjsToOnnxError(
      'INVALID_OPTION',
      `opset ${opset} is not supported: choose ${MIN_OPSET} to ${MAX_OPSET}`,
      { opset },
    );
  }
  if (!model.inputs?.length || !model.outputs?.length) {
    throw new TfjsToOnnxError(
      'INVALID_MODEL',
      `model '${model.name}' has no symbolic inputs/outputs: build it (give the first layer an inputShape) before converting`,
    );
  }
  const b = new GraphBuilder(opset);
  const inputNames = defaultNames(options.inputNames, model.inputs.length, 'input', 'inputNames');
  const outputNames = defaultNames(options.outputNames, model.outputs.length, 'output', 'outputNames');
  const values = new Map<number, OnnxValue>();
  const io: ModelIO = { inputs: [], outputs: [] };
  const plan = options.selfContained ? planSelfContained(model, options.selfContained) : null;

  model.inputs.forEach((t, i) => {
    if (t.dtype !== 'float32')
      throw new TfjsToOnnxError(
        'INVALID_MODEL',
        `model input '${t.name}' is ${t.dtype}; only float32 inputs are converted`,
      );
    const name = b.reserve(inputNames[i]!);
    const prefix = model.inputs.length === 1 ? '' : `${name}_`;
    const shape = plan ? plan.inputShape : t.shape;
    const layout = LAYOUTS[t.shape.length] ?? `rank${t.shape.length}`;
    io.inputs.push({ name, dtype: 'float32', shape: specShape(shape, prefix), layout });
    const entry = toChannelsFirst(b, { name, rank: t.shape.length, channelsFirst: false }, name);
    values.set(t.id, plan ? plan.prepareInput(b, entry) : entry);
  });
  for (const name of outputNames) b.reserve(name);
  if (plan?.labelsName) b.reserve(plan.labelsName);

  const { nodes, consumers } = orderedNodes(model);
  for (const node of nodes) {
    const layer = node.outboundLayer;
    const index = model.layers.indexOf(layer);
    const cls = layer.getClassName();
    const convert = layerConverter(cls);
    if (!convert) {
      const nested = ['Functional', 'Sequential', 'Model'].includes(cls)
        ? ' nested models are not converted, build the model flat;'
        : '';
      throw unsupportedLayer(
        layer,
        index,
        `no converter for class ${cls};${nested} supported classes: ${registeredLayerClasses().join(', ')}. A custom layer can register one with registerLayerConverter('${cls}', fn).`,
      );
    }
    const ctx: LayerConversionContext = {
      builder: b,
      layer,
      layerIndex: index,
      config: layer.getConfig() as Record<string, unknown>,
      inputs: node.inputTensors.map((t) => values.get(t.id)!),
      inputShapes: node.inputTensors.map((t) => t.shape),
      outputShapes: node.outputTensors.map((t) => t.shape),
      baseName: layer.name,
      weights: () => layerWeights(layer),
      inputIsExclusive: (i) => consumers.get(node.inputTensors[i]!.id) === 1,
      unsupported: (what) => {
        throw unsupportedLayer(layer, index, `${what} is not supported`);
      },
    };
    let produced: OnnxValue | OnnxValue[];
    try {
      produced = convert(ctx);
    } catch (err) {
      if (err instanceof TfjsToOnnxError) throw err;
      throw unsupportedLayer(layer, index, (err as Error).message);
    }
    const outs = Array.isArray(produced) ? produced : [produced];
    if (outs.length !== node.outputTensors.length) {
      throw unsupportedLayer(
        layer,
        index,
        `its converter returned ${outs.length} values for ${node.outputTensors.length} outputs`,
      );
    }
    node.outputTensors.forEach((t, i) => {
      const v = outs[i]!;
      if (v.rank !== t.shape.length)
        throw unsupportedLayer(
          layer,
          index,
          `its converter produced a rank-${v.rank} value for a rank-${t.shape.length} output`,
        );
      values.set(t.id, v);
    });
  }

  model.outputs.forEach((t, i) => {
    const name = outputNames[i]!;
    const v = plan ? plan.finishOutput(b, values.get(t.id)!) : values.get(t.id)!;
    // The final node writes the exact output name: a Transpose back to channels-last, or an Identity.
    if (v.channelsFirst) {
      b.opWithReservedOutput('Transpose', [v.name], name, { perm: toChannelsLastPerm(v.rank) });
    } else {
      b.opWithReservedOutput('Identity', [v.name], name);
    }
    const prefix = `${name}_`;
    const shape = plan ? plan.outputShape : t.shape;
    // Cropped back to the input's size, the output's spatial dims are the input's: the same symbolic names say so.
    const spec = specShape(shape, plan?.dynamicSpatial === 'any' ? '' : prefix);
    const layout = LAYOUTS[t.shape.length] ?? `rank${t.shape.length}`;
    io.outputs.push({ name, dtype: 'float32', shape: spec, layout });
    if (plan?.labelsName) {
      plan.addLabels(b, v, plan.labelsName);
      // Labels drop the class axis: NHWC -> NHW.
      io.outputs.push({ name: plan.labelsName, dtype: 'uint8', shape: spec.slice(0, -1), layout: layout.slice(0, -1) });
    }
  });

  const bytes = encodeModel({
    ir_version: IR_VERSION_FOR_OPSET[opset]!,
    opset_import: [{ domain: '', version: opset }],
    producer_name: '@rwseg/tfjs-to-onnx',
    producer_version: TFJS_TO_ONNX_VERSION,
    ...(options.docString ? { doc_string: options.docString } : {}),
    graph: {
      name: model.name || 'model',
      node: b.nodes,
      initializer: b.tensors(),
      input: io.inputs.map(valueInfo),
      output: io.outputs.map(valueInfo),
    },
    metadata_props: Object.entries(options.metadataProps ?? {}).map(([key, value]) => ({ key, value })),
  });
  return { bytes, io, opset };
}
