/**
 * What every rwseg command shares: --json (oclif prints the returned object), --plugin to add third-party
 * plugins, --log-level, and one place that turns every failure into one line (or one JSON object with --json) and
 * an exit status: 2 for what the user can fix (a file, a flag, an option, a plugin), 1 for internal failures.
 * At --log-level debug the line is followed by the error's details and stack.
 */
import { Command, Flags } from '@oclif/core';
import {
  isRwsegError,
  stderrLogger,
  type BackendChoice,
  type BackendName,
  type Logger,
  type PluginRegistry,
  type RwsegErrorCode,
} from '@rwseg/core';
import {
  createServices,
  resolveRegistry,
  TOKENS,
  type BackendSelection,
  type ServiceContainer,
} from '@rwseg/core/services';

/** Failures of rwseg itself or of the numerics, not of what the user gave: exit 1. */
const INTERNAL_CODES: ReadonlySet<RwsegErrorCode> = new Set(['NUMERICAL_ERROR', 'WORKER_FAILED']);

interface Failure {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  exit: number;
}

/** oclif's parser and `this.error()` errors carry `oclif.exit`; its own exit signal is `EEXIT`. */
type OclifError = Error & { code?: string; oclif?: { exit?: number }; parse?: unknown };

export function describeFailure(error: OclifError): Failure {
  if (isRwsegError(error)) {
    return {
      code: error.code,
      message: error.message,
      details: error.details,
      exit: INTERNAL_CODES.has(error.code) ? 1 : 2,
    };
  }
  if (error.oclif?.exit !== undefined) {
    // Parser messages span lines ("The following errors occurred:", one indented line per problem, "See more help
    // with --help"): fold them into one line that names every problem.
    const lines = error.message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !/^See more help/.test(line));
    const problems = lines[0]?.endsWith(':') && lines.length > 1 ? lines.slice(1) : lines;
    const message = `${problems.join('; ').replace(/:$/, '')} (see --help)`;
    return {
      code: error.parse ? 'INVALID_ARGUMENTS' : (error.code ?? 'INVALID_INPUT'),
      message,
      exit: error.oclif.exit || 2,
    };
  }
  return { code: 'INTERNAL_ERROR', message: `internal error: ${error.message}`, exit: 1 };
}

export abstract class RwsegCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    plugin: Flags.string({
      description:
        'Load an extra plugin (npm package name or path); repeatable. Also read from the "rwseg.plugins" section of ./package.json.',
      multiple: true,
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.option({ options: ['debug', 'info', 'warn'] as const, default: 'info', helpGroup: 'GLOBAL' })(),
  };

  protected logger: Logger = stderrLogger('info');
  private level: 'debug' | 'info' | 'warn' = 'info';

  /** The --log-level in force ('info' unless given); progress output stays quiet at 'warn'. */
  protected logLevel(): 'debug' | 'info' | 'warn' {
    return this.level;
  }

  /** Honors --log-level for every command (parsed from argv here, before the command's own flags are). */
  public override async init(): Promise<void> {
    await super.init();
    const at = this.argv.findIndex((arg) => arg === '--log-level' || arg.startsWith('--log-level='));
    const value = at < 0 ? undefined : this.argv[at]!.includes('=') ? this.argv[at]!.split('=')[1] : this.argv[at + 1];
    if (value === 'debug' || value === 'info' || value === 'warn') {
      this.level = value;
      this.logger = stderrLogger(value);
    }
  }

  private container: ServiceContainer | undefined;

  /** The services this command resolves from (logger, clock, backend selection, registry): one container per run. */
  protected services(plugins: readonly string[] = [], extra: { baseDir?: string } = {}): ServiceContainer {
    const registryOptions = { plugins, ...(extra.baseDir ? { baseDir: extra.baseDir } : {}) };
    if (!this.container) this.container = createServices({ ...registryOptions, logger: this.logger });
    // A backend chosen before the plugins were named: the registry (not resolved yet) loads the ones named now.
    else if (plugins.length > 0 || extra.baseDir)
      this.container.rebind(TOKENS.RegistryOptions).toConstantValue(registryOptions);
    return this.container;
  }

  /** Sets the TF.js backend through the container's backend selection (it logs with this command's logger). */
  protected async selectBackend(choice: BackendChoice): Promise<BackendName> {
    return this.services().get<BackendSelection>(TOKENS.Backend).use(choice);
  }

  protected async loadRegistry(
    plugins: readonly string[] = [],
    extra: { baseDir?: string } = {},
  ): Promise<PluginRegistry> {
    return resolveRegistry(this.services(plugins, extra));
  }

  protected override async catch(error: OclifError): Promise<unknown> {
    if (error.code === 'EEXIT') return super.catch(error);
    const failure = describeFailure(error);
    // --json may be unparsed when the flags themselves failed: look at argv too.
    if (this.jsonEnabled() || this.argv.includes('--json')) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: failure.code, message: failure.message, details: failure.details ?? {} } })}\n`,
      );
    } else {
      process.stderr.write(`Error: ${failure.message}\n`);
      // The one line is what a user reads; --log-level debug adds what a bug report needs, after it.
      if (this.logLevel() === 'debug') {
        const details = failure.details && Object.keys(failure.details).length > 0 ? failure.details : undefined;
        if (details) process.stderr.write(`details: ${JSON.stringify(details)}\n`);
        if (error.stack) process.stderr.write(`${error.stack}\n`);
      }
    }
    this.exit(failure.exit);
  }
}
