/**
 * `@rwseg/core/base`: what every rwseg process needs and nothing more: the errors with their codes, the version,
 * the logger. It loads no TF.js, so a process that only serves ONNX models or reports an error stays small (the
 * root entry loads TF.js and every job).
 */
export { RwsegError, isRwsegError, type RwsegErrorCode } from '../errors.js';
export { RWSEG_VERSION } from '../version.js';
export { silentLogger, stderrLogger, type Logger } from '../logger.js';
