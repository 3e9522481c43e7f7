/** `@rwseg/core/distance`: exact Euclidean distance transforms (N-D, anisotropic) and their worker pool. */
export * from '../distance/index.js';
