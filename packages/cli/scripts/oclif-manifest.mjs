#!/usr/bin/env node
/**
 * Writes oclif.manifest.json (the command list oclif reads instead of importing every command at start-up) for the
 * packed @rwseg/cli, as `oclif manifest` does: the `oclif` dev tool installs from npm but brings the AWS SDK along,
 * while @oclif/core, already a dependency, builds the same manifest. Run by `prepack`; `postpack` deletes the file,
 * because a stale manifest in a working tree would hide new or changed commands.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const plugin = new Plugin({
  root,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
});
await plugin.load();
const count = Object.keys(plugin.manifest.commands).length;
if (count === 0) throw new Error(`${root}: no commands found under dist/src/commands; build first (tsc -b)`);
const file = path.join(root, 'oclif.manifest.json');
// Written beside and renamed, so an interrupted run never leaves half a manifest to be packed.
writeFileSync(`${file}.tmp`, `${JSON.stringify(plugin.manifest, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`oclif.manifest.json: ${count} commands, version ${plugin.manifest.version}`);
