/** Starts a server and wires SIGTERM/SIGINT to a graceful shutdown: stop accepting, drain, release, exit. */
import { createServer, describeModels, type RwsegServer, type ServerOptions } from './server.js';

export interface StartedServer {
  server: RwsegServer;
  url: string;
  models: ReturnType<typeof describeModels>;
}

export async function startServer(options: ServerOptions & { handleSignals?: boolean; onShutdown?: () => void }): Promise<StartedServer> {
  const server = await createServer(options);
  const url = await server.listen();
  if (options.handleSignals !== false) {
    const shutdown = (signal: NodeJS.Signals) => {
      server.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
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
