/**
 * File access for the whole codebase: reads whose failures name the file, and the one atomic writer.
 *
 * Atomic writes: data goes to a temporary name beside the target (same folder, so the same file system), is
 * fsynced, then renamed over the target (rename is atomic within a file system), and the folder is fsynced so the
 * rename survives a power cut. A kill -9 at any point leaves either the old file or the new one, plus at worst a
 * stale `.<name>.tmp-<pid>-<n>` that readers ignore and the next write of that name removes.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RwsegError } from '../errors.js';

export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String((error as Error).message);
    throw new RwsegError('IO_ERROR', `cannot read ${file}: ${reason}`, { file }, { cause: error });
  }
}

let tempCounter = 0;

/** The temporary name a staged write of `file` uses; hidden (leading dot) so scanners and globbing skip it. */
export function temporaryName(file: string, kind = 'tmp'): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${kind}-${process.pid}-${tempCounter++}`);
}

/** True for the names temporaryName() makes: half-done work a reader must not take for a real file. */
export function isTemporaryName(name: string): boolean {
  return /^\..+\.(tmp|old)-\d+-\d+$/.test(name);
}

/** fsyncs a file or folder; folders on file systems that refuse it are skipped (the rename is still atomic). */
export function fsyncPath(target: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(target, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeAndSync(file: string, bytes: Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file written and fsynced under a temporary name, put in place by commit() (one rename). */
export interface StagedFile {
  readonly target: string;
  readonly temp: string;
  commit(): void;
  discard(): void;
}

/** Writes `data` under a temporary name beside `file` (creating the folder); nothing is visible until commit(). */
export function stageFile(file: string, data: Uint8Array | string): StagedFile {
  const temp = temporaryName(file);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeAndSync(temp, bytes);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new RwsegError('IO_ERROR', `cannot write ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
  return {
    target: file,
    temp,
    commit() {
      renameDurable(temp, file);
    },
    discard() {
      rmSync(temp, { force: true });
    },
  };
}

/** rename(2) plus an fsync of the target's folder, so the rename itself is on disk when this returns. */
export function renameDurable(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    throw new RwsegError(
      'IO_ERROR',
      `cannot move ${from} to ${to}: ${(error as Error).message}`,
      { file: to },
      { cause: error },
    );
  }
  fsyncPath(path.dirname(to));
}

/** The atomic write: stage, fsync, rename, fsync the folder. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  stageFile(file, data).commit();
}

/** writeFileAtomic for async callers (image writers); the same implementation. */
export async function writeBytesAtomic(file: string, bytes: Uint8Array): Promise<void> {
  writeFileAtomic(file, bytes);
}

/** Removes the temporary files and folders killed writers left in `dir` (names temporaryName() makes, dead pids). */
export function removeStaleTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const pid = /^\..+\.(?:tmp|old)-(\d+)-\d+$/.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lower-cased extension that knows about double extensions such as .nii.gz. */
export function imageExtension(file: string): string {
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii.gz')) return '.nii.gz';
  return path.extname(lower);
}
