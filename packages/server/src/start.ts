/**
 * Starts a server and wires SIGTERM/SIGINT to a graceful shutdown (drain, close the listener, answer what was
 * received, release); a second signal ends the drain period at once.
 */
import { createServer, describeModels, type RwsegServer, type ServerOptions } from './server.js';

export interface StartedServer {
  server: RwsegServer;
  url: string;
  models: ReturnType<typeof describeModels>;
}

export async function startServer(
  options: ServerOptions & { handleSignals?: boolean; onShutdown?: () => void },
): Promise<StartedServer> {
  const server = await createServer(options);
  const url = await server.listen();
  if (options.handleSignals !== false) {
    const shutdown = (signal: NodeJS.Signals) => {
      server.app.log.info({ signal }, 'shutting down: draining, then finishing in-flight requests');
      const hurry = () => void server.close({ drainMs: 0 });
      process.once('SIGTERM', hurry);
      process.once('SIGINT', hurry);
      server
        .close()
        .then(() => {
          server.app.log.info({}, 'shut down cleanly');
          options.onShutdown?.();
        })
        .catch((error: Error) => {
          server.app.log.error({ err: error }, 'error during shutdown');
          process.exitCode = 1;
          options.onShutdown?.();
        });
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  }
  return { server, url, models: describeModels(server.store) };
}
