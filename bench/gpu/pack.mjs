#!/usr/bin/env node
// Packs what a lent GPU machine (no Node.js, no network) needs to run bench/gpu/run-on-device.sh into
// bench/gpu/carry/ (git-ignored), to be passed as the device tool's `carry`:
//   node.xz            this machine's Node binary, xz -9
//   node_modules.tar.xz the runtime closure of @rwseg/core (built dist only, as for the other @rwseg packages),
//                      onnxruntime-node and webgpu,
//                      with only their linux-x64 binaries and without maps, types, sources and docs
//   debs/*.deb         the Vulkan loader (libvulkan1) and the GL dispatch libraries the NVIDIA ICD library links
//                      (libglvnd0 ...): the GPU image has the NVIDIA driver but may lack them
// Fails if the folder exceeds the device's 64 MiB per call (the rest of the working tree travels too).
// Usage (after `npx tsc -b`): node bench/gpu/pack.mjs [--skip-debs]
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'bench/gpu/carry');
const LIMIT = 64 * 1024 * 1024;
// Room left for the repository's own files, which travel in the same call.
const BUDGET = LIMIT - 6 * 1024 * 1024;

const ROOTS = ['@rwseg/core', 'onnxruntime-node', 'webgpu'];
// Imported only on request, or types only: not needed to train or infer on WebGPU.
const SKIP = new Set(['@tensorflow/tfjs-backend-wasm', '@webgpu/types']);
const DROP_FILE = /(\.map|\.d\.[cm]?ts|\.tsbuildinfo|\.md|\.ts)$/;
const DROP_DIR = new Set(['src', 'test', 'tests', 'docs', 'doc', 'example', 'examples', 'build', 'script', '.github']);
// Binaries for other systems: dawn.node per platform folder, onnxruntime per bin/napi-v6/<platform>/<arch>.
const FOREIGN = /(^|\/)(darwin[^/]*|win32[^/]*|linux-arm64|linux\/arm64)(\/|$)/;

function packageDir(name, from) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === path.dirname(dir)) return undefined;
  }
}

function closure() {
  const found = new Map();
  const visit = (name, from) => {
    if (SKIP.has(name) || name.startsWith('@types/')) return;
    const dir = packageDir(name, from);
    if (!dir) return; // an optional dependency that is not installed
    const key = `${name}@${dir}`;
    if (found.has(key)) return;
    found.set(key, {
      name,
      dir,
      installAs: path.relative(root, dir).startsWith('node_modules')
        ? path.relative(path.join(root, 'node_modules'), dir)
        : name,
    });
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, dir);
  };
  for (const name of ROOTS) visit(name, root);
  return [...found.values()];
}

function copyPackage({ name, dir }, dest) {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  mkdirSync(dest, { recursive: true });
  writeFileSync(path.join(dest, 'package.json'), JSON.stringify(pkg));
  if (name.startsWith('@rwseg/')) {
    cpSync(path.join(dir, 'dist/src'), path.join(dest, 'dist/src'), {
      recursive: true,
      filter: (src) => !DROP_FILE.test(src) || src.endsWith('.js'),
    });
    return;
  }
  if (name.startsWith('@tensorflow/')) {
    // Node resolves these to their single-file node bundle; the rest of dist is ESM and browser bundles.
    mkdirSync(path.join(dest, path.dirname(pkg.main)), { recursive: true });
    cpSync(path.join(dir, pkg.main), path.join(dest, pkg.main));
    return;
  }
  cpSync(dir, dest, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(dir, src);
      if (rel === '') return true;
      const parts = rel.split(path.sep);
      if (parts.includes('node_modules') || DROP_DIR.has(parts[0])) return false;
      if (FOREIGN.test(rel.split(path.sep).join('/'))) return false;
      return statSync(src).isDirectory() || !DROP_FILE.test(src);
    },
  });
}

function sizeOf(p) {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((sum, f) => sum + sizeOf(path.join(p, f)), 0) : s.size;
}

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
if (!existsSync(path.join(root, 'packages/tfjs-training-backends/dist/src/webgpu/backend.js'))) {
  console.error('packages/tfjs-training-backends is not built: run `npx tsc -b` first');
  process.exit(1);
}

const stage = mkdtempSync(path.join(tmpdir(), 'rwseg-gpu-pack-'));
const packages = closure();
for (const p of packages) copyPackage(p, path.join(stage, 'node_modules', p.installAs));
console.log(`packages: ${packages.map((p) => p.installAs).join(' ')}`);
console.log(`node_modules staged: ${mib(sizeOf(stage))}`);
execFileSync('tar', ['-C', stage, '-cJf', path.join(out, 'node_modules.tar.xz'), 'node_modules'], {
  env: { ...process.env, XZ_OPT: '-9 -T0' },
});
rmSync(stage, { recursive: true, force: true });

execFileSync('sh', ['-c', `xz -9 -T0 -c "${process.execPath}" > "${path.join(out, 'node.xz')}"`]);
writeFileSync(path.join(out, 'node.version'), `${process.version}\n`);

if (!process.argv.includes('--skip-debs')) {
  mkdirSync(path.join(out, 'debs'));
  // Download only (no install): amd64 is the device's architecture whatever this machine's is.
  const debs = ['libvulkan1', 'libglvnd0', 'libglx0', 'libgl1', 'libegl1', 'libopengl0', 'libgles2'].map(
    (p) => `${p}:amd64`,
  );
  execFileSync('apt-get', ['download', '-q', ...debs], {
    cwd: path.join(out, 'debs'),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const total = sizeOf(out);
for (const f of readdirSync(out)) console.log(`  ${f}: ${mib(sizeOf(path.join(out, f)))}`);
console.log(`carry bench/gpu/carry: ${mib(total)} (budget ${mib(BUDGET)} of the device's ${mib(LIMIT)} per call)`);
if (total > BUDGET) {
  console.error('too large for one device call');
  process.exit(1);
}
