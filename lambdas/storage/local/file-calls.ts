/**
 * The file calls of the local engine's object store (./file-blobs.ts) and how their errors read:
 * a missing file, a transient fault (StorageUnavailableError: retry later), or no hard link here.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { StorageUnavailableError } from '../errors';

/** link(2) errors that mean "no hard link here" (another file system, none supported, too many links): copy instead. */
export const NO_LINK_CODES = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

/** fs errors that say "try again later" (a full disk, too many open files), not "this is wrong". */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

export async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export async function syncFile(path: string): Promise<void> {
  const handle = await fsCall(() => open(path, constants.O_RDONLY));
  try {
    await fsCall(() => handle.datasync());
  } finally {
    await handle.close();
  }
}

export async function syncDirectoryOnce(dir: string): Promise<void> {
  const handle = await fsCall(() => open(dir, constants.O_RDONLY));
  try {
    await fsCall(() => handle.sync());
  } finally {
    await handle.close();
  }
}

/** ENOENT: no such file; ENOTDIR: a segment of the key is a file; EISDIR: the key is a directory of others. */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

export function transient(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && TRANSIENT_CODES.has(code)
    ? new StorageUnavailableError(`the object store cannot write now (${code})`)
    : error;
}

export async function fsCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw transient(error);
  }
}
