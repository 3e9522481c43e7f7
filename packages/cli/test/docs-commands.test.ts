/**
 * Every `rwseg` command line in README.md and docs/ (shell code blocks) names a command that exists and only flags
 * that command takes, with values among a flag's choices where it has them (issue 17, item 2). The README's lines
 * also run, with small settings, in test/readme-commands.test.ts, and each command's `--help` examples in
 * help-examples.test.ts; the docs' lines need data and models a test does not have, so they are checked against
 * the commands' own flag definitions, read by oclif from the built CLI, which is what a user's shell reaches.
 */
import test from 'ava';
import { Config, type Command } from '@oclif/core';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@rwseg/test-helpers/cli';
import { shellWords } from '@rwseg/test-helpers/command-lines';

interface DocLine {
  where: string;
  line: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return markdownFiles(file);
    return name.endsWith('.md') ? [file] : [];
  });
}

/** The `rwseg ...` lines of a file's sh/bash/console code blocks, continuation lines joined, comments cut. */
function commandLines(file: string): DocLine[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: DocLine[] = [];
  let inShell = false;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```(\w*)/.exec(lines[i]!);
    if (fence) {
      inShell = !inShell && ['sh', 'bash', 'shell', 'console'].includes(fence[1]!);
      continue;
    }
    if (!inShell) continue;
    const start = i;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    // A comment starts at a # that follows a space outside quotes (URLs and values keep theirs).
    line = line.replace(/\s+#(?=(?:[^'"]|'[^']*'|"[^"]*")*$).*$/, '').replace(/^\s*\$\s+/, '');
    for (const part of line.split(/\s(?:&&|\|\||;|\|)\s/)) {
      const words = part.trim().split(/\s+/);
      const at = words.findIndex((w) => w === 'rwseg');
      if (at >= 0 && words.slice(0, at).every((w) => w === 'npx' || /^[A-Z_][A-Z0-9_]*=/.test(w))) {
        found.push({ where: `${path.relative(REPO_ROOT, file)}:${start + 1}`, line: part.trim() });
      }
    }
  }
  return found;
}

/** The flag names a command takes: its own, their aliases and oclif's global ones. */
function flagNames(command: Command.Loadable): Map<string, { options?: readonly string[] }> {
  const names = new Map<string, { options?: readonly string[] }>([
    ['help', {}],
    ['json', {}],
  ]);
  for (const [name, flag] of Object.entries(command.flags ?? {})) {
    const options = (flag as { options?: readonly string[] }).options;
    names.set(name, { options });
    for (const alias of (flag as { aliases?: string[] }).aliases ?? []) names.set(alias, { options });
  }
  return names;
}

/** What is wrong with one documented line, or undefined. */
function problem(config: Config, line: string): string | undefined {
  const { words } = shellWords(line);
  const args = words.slice(words.indexOf('rwseg') + 1);
  if (args.length === 0 || args[0] === '--help' || args[0] === '--version') return undefined;
  // The longest run of leading words that names a command ("maps compute", "sweep run-task").
  let id: string | undefined;
  let used = 0;
  for (let n = 1; n <= args.length && !args[n - 1]!.startsWith('-'); n++) {
    const candidate = args.slice(0, n).join(':');
    if (config.findCommand(candidate)) {
      id = candidate;
      used = n;
    }
  }
  if (!id)
    return `no command '${args
      .filter((a) => !a.startsWith('-'))
      .slice(0, 2)
      .join(' ')}'`;
  const flags = flagNames(config.findCommand(id)!);
  const rest = args.slice(used);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('--')) continue;
    const [name, inline] = word.slice(2).split(/=(.*)/s);
    const flag = flags.get(name!);
    if (!flag) return `'rwseg ${id.replace(/:/g, ' ')}' has no flag --${name}`;
    const value = inline ?? rest[i + 1];
    // A placeholder (<file>, PATH, $VAR, ...) stands for a user's value; a literal value must be one of the choices.
    if (flag.options && value !== undefined && /^[a-z0-9,-]+$/.test(value)) {
      const bad = value.split(',').filter((v) => !flag.options!.includes(v));
      if (bad.length > 0 && !flag.options.includes(value))
        return `--${name} ${value}: not one of ${flag.options.join(', ')}`;
    }
  }
  return undefined;
}

test('every rwseg command line in README.md and docs/ names a real command and only its flags', async (t) => {
  const config = await Config.load(path.join(REPO_ROOT, 'packages', 'cli'));
  const files = [path.join(REPO_ROOT, 'README.md'), ...markdownFiles(path.join(REPO_ROOT, 'docs'))];
  const lines = files.flatMap(commandLines);
  // The docs hold about ninety command lines: an extraction that finds few has stopped working.
  t.true(lines.length > 60, `only ${lines.length} command lines found`);
  const problems = lines.flatMap(({ where, line }) => {
    const wrong = problem(config, line);
    return wrong ? [`${where}: ${wrong}\n    ${line}`] : [];
  });
  t.deepEqual(problems, [], problems.join('\n'));
});

test('the check itself catches a missing command, an unknown flag and a value outside the choices', async (t) => {
  const config = await Config.load(path.join(REPO_ROOT, 'packages', 'cli'));
  t.is(problem(config, 'npx rwseg train --synthetic --epochs 2 --out runs/x'), undefined);
  t.regex(problem(config, 'rwseg trian --synthetic') ?? '', /no command 'trian'/);
  t.regex(problem(config, 'rwseg maps compute --labels a.png --colour red') ?? '', /has no flag --colour/);
  t.regex(problem(config, 'rwseg train --synthetic --backend cuda') ?? '', /--backend cuda: not one of/);
});
