/**
 * What every rwseg command shares: --json (oclif prints the returned object), --plugin to add third-party
 * plugins, --log-level, and one place that turns RwsegErrors into a clear message and a non-zero exit.
 */
import { Command, Flags } from '@oclif/core';
import { createRegistry, isRwsegError, stderrLogger, type Logger, type PluginRegistry, type RwsegErrorCode } from '@rwseg/core';

/** Error codes that are rwseg's failure, not the user's input. */
const INTERNAL_FAILURES: readonly RwsegErrorCode[] = ['WORKER_FAILED'];

export abstract class RwsegCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    plugin: Flags.string({
      description: 'Load an extra plugin (npm package name or path); repeatable. Also read from the "rwseg.plugins" section of ./package.json.',
      multiple: true,
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.option({ options: ['debug', 'info', 'warn'] as const, default: 'info', helpGroup: 'GLOBAL' })(),
  };

  protected logger: Logger = stderrLogger('info');

  protected async loadRegistry(plugins: readonly string[] = [], extra: { baseDir?: string } = {}): Promise<PluginRegistry> {
    return createRegistry({ plugins, logger: this.logger, baseDir: extra.baseDir });
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (isRwsegError(error)) {
      // One line a user can act on, with the code for scripts; no stack trace for user errors. Exit 2 is bad
      // input; a worker thread that died is an internal failure (exit 1), whatever input it was given.
      const exit = INTERNAL_FAILURES.includes(error.code) ? 1 : 2;
      if (this.jsonEnabled()) {
        this.logJson({ error: { code: error.code, message: error.message, details: error.details } });
        this.exit(exit);
      }
      this.error(error.message, { exit, code: error.code });
    }
    return super.catch(error);
  }
}
