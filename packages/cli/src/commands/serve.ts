import { Flags } from '@oclif/core';
import { RwsegError } from '@rwseg/core';
import {
  DEFAULT_MAX_VOXELS,
  DEFAULT_PROVIDERS,
  loadTokens,
  parseCorsOrigins,
  parseProviderList,
  startServer,
} from '@rwseg/server';
import { RwsegCommand } from '../base-command.js';

/** "64mb", "512k", "1048576" -> bytes. */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb?|mb?|gb?|kib|mib|gib)?$/i.exec(text.trim());
  if (!match)
    throw new RwsegError(
      'INVALID_OPTIONS',
      `invalid --body-limit '${text}': give bytes, or a number with k, m or g (e.g. 64m)`,
      { text },
    );
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.floor(Number(match[1]) * scale);
}

export default class Serve extends RwsegCommand {
  static override summary =
    'Serve exported models over the Open Inference Protocol (KServe V2 / Triton HTTP) with onnxruntime.';
  static override description =
    'Serves every model in a Triton-layout model repository (as `rwseg export` writes it). Execution providers are tried one at a time in the given order; the chosen one is printed. SIGTERM (or SIGINT) drains: readiness and new requests answer 503 for --drain-ms while the listener stays open, then it closes, every request already received is answered and the process exits 0; a second signal ends the drain at once. Auth: --token-file or the RWSEG_TOKEN environment variable (comma-separated tokens).';
  static override examples = [
    '<%= config.bin %> serve --models ./model_repository',
    '<%= config.bin %> serve --models ./repo --host 0.0.0.0 --port 8000 --provider cuda,cpu --max-batch-size 16',
    'RWSEG_TOKEN=secret <%= config.bin %> serve --models ./repo',
  ];
  static override flags = {
    models: Flags.string({ required: true, description: 'model repository folder (<name>/<version>/model.onnx)' }),
    port: Flags.integer({ default: 8000, min: 0, max: 65535, description: 'TCP port (0 picks a free one)' }),
    host: Flags.string({ default: '127.0.0.1', description: 'address to bind; 0.0.0.0 for all interfaces' }),
    provider: Flags.string({
      description: `execution providers in the order to try, comma-separated (default ${DEFAULT_PROVIDERS.join(',')}, leaving out webgpu when its only adapter is a software rasteriser)`,
    }),
    'strict-provider': Flags.boolean({
      default: false,
      description: 'fail when a provider cannot load a model instead of trying the next',
    }),
    'max-batch-size': Flags.integer({
      min: 1,
      description: 'rows merged into one onnxruntime run (default: 1 on the cpu provider, 8 on the others)',
    }),
    'max-queue-delay-ms': Flags.integer({
      default: 0,
      min: 0,
      description:
        'how long the oldest queued request waits for others to batch with (0: merge only what is already queued)',
    }),
    'max-queue': Flags.integer({
      default: 256,
      min: 1,
      description: 'waiting requests per model before 503 + Retry-After',
    }),
    'body-limit': Flags.string({ default: '64m', description: 'largest request body (413 beyond it), e.g. 64m' }),
    'timeout-ms': Flags.integer({
      default: 30_000,
      min: 0,
      description:
        'one deadline per request, from when its headers are read: body still arriving 408, inference not started 503, started 504 (0: none)',
    }),
    'max-voxels': Flags.integer({
      default: DEFAULT_MAX_VOXELS,
      min: 1,
      description: 'most voxels a decoded /segment image, or elements an infer input, may have (413 beyond)',
    }),
    'drain-ms': Flags.integer({
      default: 5_000,
      min: 0,
      description: 'on SIGTERM, how long readiness and new requests answer 503 before the listener closes',
    }),
    'cors-origin': Flags.string({
      description: "origins allowed cross-origin access, comma-separated, or '*' (CORS is off without it)",
    }),
    'token-file': Flags.string({ description: 'file with bearer tokens, one per line (or set RWSEG_TOKEN)' }),
    threads: Flags.integer({
      default: 0,
      min: 0,
      description: 'onnxruntime intra-op threads per model (0: one per core)',
    }),
    spinning: Flags.boolean({
      default: false,
      description: "let onnxruntime's idle threads spin-wait (faster alone, slower beside the HTTP work)",
    }),
    eager: Flags.boolean({ default: false, description: 'load every model at start instead of on first use' }),
  };

  async run() {
    const { flags } = await this.parse(Serve);
    const tokens = loadTokens({ env: process.env.RWSEG_TOKEN, file: flags['token-file'] });
    let corsOrigins: string[] | undefined;
    try {
      corsOrigins = flags['cors-origin'] === undefined ? undefined : parseCorsOrigins(flags['cors-origin']);
    } catch (error) {
      throw new RwsegError('INVALID_OPTIONS', (error as Error).message, { flag: 'cors-origin' });
    }
    const { server, url, models } = await startServer({
      models: flags.models,
      host: flags.host,
      port: flags.port,
      providers: flags.provider === undefined ? undefined : parseProviderList(flags.provider),
      strictProvider: flags['strict-provider'],
      eager: flags.eager,
      threads: flags.threads,
      spinning: flags.spinning,
      maxBatchSize: flags['max-batch-size'],
      maxQueueDelayMs: flags['max-queue-delay-ms'],
      maxQueue: flags['max-queue'],
      bodyLimit: parseByteSize(flags['body-limit']),
      requestTimeoutMs: flags['timeout-ms'],
      maxVoxels: flags['max-voxels'],
      drainMs: flags['drain-ms'],
      corsOrigins,
      tokens,
      logLevel: flags['log-level'] as 'info',
      // Logs go to stderr so stdout carries only what this command prints.
      logStream: process.stderr,
      handleSignals: false,
    });
    const started = { url, auth: tokens.length > 0, providers: [...server.providers], models };
    if (this.jsonEnabled()) this.log(JSON.stringify({ event: 'listening', ...started }));
    else {
      this.log(`rwseg serve listening on ${url} (auth ${started.auth ? 'on' : 'off'})`);
      for (const m of models) {
        const state = m.reason
          ? `not ready: ${m.reason}`
          : m.state === 'ready'
            ? `ready on ${m.provider}`
            : m.state === 'unloaded'
              ? `loads on first use (providers ${started.providers.join(' -> ')})`
              : m.state;
        this.log(`  ${m.name}/${m.version}: ${state}`);
      }
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    if (!this.jsonEnabled())
      this.log(`${signal}: draining for ${flags['drain-ms']} ms, then finishing in-flight requests`);
    // A second signal (an impatient Ctrl-C) ends the drain; requests already received are still answered.
    const hurry = () => void server.close({ drainMs: 0 });
    process.once('SIGTERM', hurry);
    process.once('SIGINT', hurry);
    await server.close();
    process.off('SIGTERM', hurry);
    process.off('SIGINT', hurry);
    if (!this.jsonEnabled()) this.log('stopped');
    return { ...started, stopped: signal };
  }
}
