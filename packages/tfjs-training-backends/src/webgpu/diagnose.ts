/**
 * Why Dawn found no WebGPU adapter, and what fixes it. Dawn only answers "no adapter"; the cause is almost
 * always one of three things on Linux, each with its own fix, so the user gets the fix rather than the symptom.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where the Vulkan loader and its drivers (ICDs) were looked for, and what was found. */
export interface VulkanFacts {
  platform: NodeJS.Platform;
  /** Paths of libvulkan.so.1 that exist. */
  loaders: string[];
  /** ICD manifests (JSON) that exist, from VK_DRIVER_FILES / VK_ICD_FILENAMES or the standard folders. */
  icds: string[];
  /** ICD manifests named by VK_DRIVER_FILES / VK_ICD_FILENAMES that do not exist. */
  missingIcds: string[];
  /** Version of Debian's mesa-vulkan-drivers package, where dpkg knows it. */
  mesaVersion?: string;
}

const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/usr/local/lib',
];
const ICD_DIRS = [
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
];

export const WEBGPU_INSTALL_HINT =
  'On Debian 12: add `deb http://deb.debian.org/debian bookworm-backports main` to /etc/apt/sources.list.d/, ' +
  '`apt-get update`, then `apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1` ' +
  '(Mesa lavapipe, CPU only: for tests), or install the NVIDIA driver with its Vulkan ICD for a real GPU. See docs/gpu.md.';

/** Reads the facts from this machine: files only, plus one dpkg query where dpkg exists. */
export function probeVulkan(env: NodeJS.ProcessEnv = process.env): VulkanFacts {
  const libDirs = [...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean), ...LIB_DIRS];
  const loaders = libDirs.map((dir) => join(dir, 'libvulkan.so.1')).filter((path) => existsSync(path));
  const named = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? '').split(delimiter).filter(Boolean);
  let icds: string[];
  let missingIcds: string[] = [];
  if (named.length > 0) {
    icds = named.filter((path) => existsSync(path));
    missingIcds = named.filter((path) => !existsSync(path));
  } else {
    icds = ICD_DIRS.flatMap((dir) => {
      try {
        return readdirSync(dir)
          .filter((name) => name.endsWith('.json'))
          .map((name) => join(dir, name));
      } catch {
        return [];
      }
    });
  }
  return {
    platform: process.platform,
    loaders: [...new Set(loaders)],
    icds,
    missingIcds,
    mesaVersion: debianMesaVersion(),
  };
}

function debianMesaVersion(): string | undefined {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'mesa-vulkan-drivers'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    return out.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The major version of a Debian Mesa version string such as '25.0.7-2~bpo12+1' or '22.3.6-1+deb12u1'. */
export function mesaMajor(version: string | undefined): number | undefined {
  const match = /^(?:\d+:)?(\d+)\./.exec(version ?? '');
  return match ? Number(match[1]) : undefined;
}

/** The likely cause of "no adapter" and its fix, in one sentence each, from the facts. */
export function explainNoAdapter(facts: VulkanFacts): { cause: string; fix: string } {
  if (facts.platform !== 'linux') {
    return {
      cause: `Dawn found no GPU adapter on ${facts.platform}`,
      fix: 'update the GPU driver (Metal on macOS, D3D12 on Windows)',
    };
  }
  if (facts.loaders.length === 0) {
    return {
      cause: 'the Vulkan loader (libvulkan.so.1) is not installed',
      fix: '`apt-get install -y libvulkan1` (and a Vulkan driver: see below). ' + WEBGPU_INSTALL_HINT,
    };
  }
  if (facts.missingIcds.length > 0 && facts.icds.length === 0) {
    return {
      cause: `VK_DRIVER_FILES/VK_ICD_FILENAMES names ${facts.missingIcds.join(', ')}, which does not exist`,
      fix: 'unset it or point it at an existing ICD manifest (e.g. /usr/share/vulkan/icd.d/nvidia_icd.json)',
    };
  }
  if (facts.icds.length === 0) {
    return {
      cause: 'no Vulkan driver (ICD) is installed: the loader has nothing to load',
      fix:
        'install the NVIDIA driver with its Vulkan ICD (in containers: NVIDIA_DRIVER_CAPABILITIES must include graphics), or Mesa lavapipe for tests. ' +
        WEBGPU_INSTALL_HINT,
    };
  }
  const major = mesaMajor(facts.mesaVersion);
  const onlyMesa = facts.icds.every((path) => !/nvidia/i.test(path));
  if (onlyMesa && major !== undefined && major < 25) {
    return {
      cause: `Mesa ${facts.mesaVersion} is too old: Dawn refuses its lavapipe (it lacks shaderUniform*ArrayDynamicIndexing)`,
      fix: 'install Mesa 25 from bookworm-backports. ' + WEBGPU_INSTALL_HINT,
    };
  }
  return {
    cause: `the Vulkan drivers found (${facts.icds.join(', ')}) offered no adapter Dawn accepts`,
    fix:
      'run `vulkaninfo --summary` (package vulkan-tools) to see what the driver reports; an NVIDIA driver needs its ICD visible, and Mesa must be >= 25. ' +
      WEBGPU_INSTALL_HINT,
  };
}
