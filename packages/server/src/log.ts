/** The slice of pino's logger the server's parts use, so they work under fastify's logger or a test's. */
export type LogFn = (obj: Record<string, unknown>, msg?: string) => void;

export interface ServerLog {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => {};
export const silentLog: ServerLog = { debug: noop, info: noop, warn: noop, error: noop };
