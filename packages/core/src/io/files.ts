/** File access with failures turned into RwsegErrors that name the file, so a bad path never surfaces as ENOENT. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RwsegError } from '../errors.js';

export async function readBytes(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String((error as Error).message);
    throw new RwsegError('IO_ERROR', `cannot read ${file}: ${reason}`, { file }, { cause: error });
  }
}

/** Writes through a temporary file and a rename, so a killed run never leaves a half-written image. */
export async function writeBytesAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, bytes);
    await rename(temp, file);
  } catch (error) {
    throw new RwsegError('IO_ERROR', `cannot write ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
}

/** Lower-cased extension that knows about double extensions such as .nii.gz. */
export function imageExtension(file: string): string {
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii.gz')) return '.nii.gz';
  return path.extname(lower);
}
