/**
 * What backend selection and the webgpu setup log through: any object with these three methods (@rwseg/core's
 * Logger is one). Library users who pass none get silence.
 */
export interface BackendLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentBackendLogger: BackendLogger = { debug() {}, info() {}, warn() {} };
