/** This package's version, written into every exported model's producer_version. */
export const TFJS_TO_ONNX_VERSION = '0.1.0';
