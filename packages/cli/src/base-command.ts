/**
 * What every rwseg command shares: --json (oclif prints the returned object), --plugin to add third-party
 * plugins, --log-level, and one place that turns RwsegErrors into a clear message and a non-zero exit.
 */
import { Command, Flags } from '@oclif/core';
import { createRegistry, isRwsegError, stderrLogger, type Logger, type PluginRegistry } from '@rwseg/core';

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
      // One line a user can act on, with the code for scripts; no stack trace for user errors.
      if (this.jsonEnabled()) {
        this.logJson({ error: { code: error.code, message: error.message, details: error.details } });
        this.exit(2);
      }
      this.error(error.message, { exit: 2, code: error.code });
    }
    return super.catch(error);
  }
}
