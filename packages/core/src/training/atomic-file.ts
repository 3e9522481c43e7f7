/**
 * Writes that are never seen half-done: data goes to a temporary file beside the target, is fsynced, then renamed
 * over the target (rename is atomic within a file system), and the directory is fsynced so the rename survives
 * a power cut. A kill -9 at any point leaves either the old file or the new one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = openSync(temp, 'w');
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, file);
  fsyncDirectory(path.dirname(file));
}

function fsyncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic there.
  }
}
