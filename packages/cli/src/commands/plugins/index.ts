import { RwsegCommand } from '../../base-command.js';

export default class Plugins extends RwsegCommand {
  static override summary = 'List the loaded plugins with their losses and maps.';
  static override description =
    'Built-in plugins load first, then those from the "rwseg.plugins" section of ./package.json, then --plugin flags.';
  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins --json',
    '<%= config.bin %> plugins --plugin ./my-plugin',
  ];

  async run() {
    const { flags } = await this.parse(Plugins);
    const registry = await this.loadRegistry(flags.plugin);
    const result = {
      plugins: registry.plugins.map((p) => ({ ...p })),
      losses: registry.lossNames().map((name) => registry.describe('loss', name)),
      maps: registry.mapNames().map((name) => registry.describe('map', name)),
    };
    if (!this.jsonEnabled()) {
      for (const plugin of result.plugins) {
        this.log(`${plugin.name}  (${plugin.source})`);
        if (plugin.description) this.log(`  ${plugin.description}`);
        for (const loss of plugin.losses) this.log(`  loss ${loss}: ${registry.describe('loss', loss).description}`);
        for (const map of plugin.maps) this.log(`  map  ${map}: ${registry.describe('map', map).description}`);
      }
      this.log(
        `\n${result.plugins.length} plugins, ${result.losses.length} losses, ${result.maps.length} maps. 'rwseg plugins inspect NAME' shows options.`,
      );
    }
    return result;
  }
}
