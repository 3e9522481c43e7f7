import { Args, Flags } from '@oclif/core';
import { RwsegError, type ContributionInfo } from '@rwseg/core';
import { RwsegCommand } from '../../base-command.js';

export default class PluginsInspect extends RwsegCommand {
  static override summary = 'Show a loss, map or plugin with its options, types and defaults.';
  static override examples = [
    '<%= config.bin %> plugins inspect rrw',
    '<%= config.bin %> plugins inspect dice --kind loss --json',
  ];
  static override args = { name: Args.string({ required: true, description: 'loss, map or plugin name' }) };
  static override flags = {
    kind: Flags.option({
      options: ['loss', 'map', 'plugin'] as const,
      description: 'what NAME is, when a loss and a map share it',
    })(),
  };

  async run() {
    const { args, flags } = await this.parse(PluginsInspect);
    const registry = await this.loadRegistry(flags.plugin);
    const matches: (ContributionInfo | { kind: 'plugin'; [key: string]: unknown })[] = [];
    if ((!flags.kind || flags.kind === 'loss') && registry.hasLoss(args.name))
      matches.push(registry.describe('loss', args.name));
    if ((!flags.kind || flags.kind === 'map') && registry.hasMap(args.name))
      matches.push(registry.describe('map', args.name));
    const plugin = registry.plugins.find((p) => p.name === args.name);
    if ((!flags.kind || flags.kind === 'plugin') && plugin) matches.push({ kind: 'plugin', ...plugin });
    if (matches.length === 0) {
      throw new RwsegError(
        'UNKNOWN_NAME',
        `no ${flags.kind ?? 'loss, map or plugin'} named '${args.name}'; losses: ${registry.lossNames().join(', ')}; maps: ${registry.mapNames().join(', ')}; plugins: ${registry.plugins.map((p) => p.name).join(', ')}`,
        { name: args.name },
      );
    }
    if (!this.jsonEnabled()) {
      for (const match of matches) this.log(`${match.kind} ${String(match.name)}\n${JSON.stringify(match, null, 2)}\n`);
    }
    return matches.length === 1 ? matches[0] : { matches };
  }
}
