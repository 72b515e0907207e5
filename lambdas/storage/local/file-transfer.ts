/**
 * DirectTransfer of the local engine (lambdas/storage/direct-transfer.ts): what S3's multipart
 * uploads and presigned URLs are in AWS, served by the embedded gateway (lib/local/transfer-site.ts)
 * under /_transfer/ with URLs signed by ./transfer-signature.ts.
 *
 * An upload is a directory DATA_DIR/uploads/{multipartUploadId}/ holding `upload.json` (its key) and
 * one file per received part, `{partNumber}.{md5 hex}.part`: streamed to a temporary file, fsynced,
 * renamed, so a part is there whole or not at all, and sending it again replaces it (the last write
 * wins). Completing streams the parts in order into the object (FileBlobStore.putStream: temporary
 * file and rename) and removes the directory. Abandoned directories are swept by age (sweep).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KEY_PREFIXES } from '../keys';
import type { DirectTransfer, UploadedPart } from '../ports';
import type { FileBlobStore } from './file-blobs';
import { temporaryPath } from './file-temporaries';
import { TRANSFER_PATH, TransferSigner, transferSecret } from './transfer-signature';

/** The directory of the uploads under DATA_DIR, and the secret's file. */
export const TRANSFER_FILES = { uploads: 'uploads', secret: 'transfer.secret' } as const;

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_FILE = /^([1-9][0-9]{0,4})\.([0-9a-f]{32})\.part$/;
/** S3's highest part number. */
export const MAX_PART_NUMBER = 10_000;

/** The upload is not in progress (never started, completed or aborted): the gateway answers 404. */
export class UploadNotInProgressError extends Error {
  override readonly name = 'UploadNotInProgressError';
}

/** A part's body was not the length its request declared (a cut request): the gateway answers 400. */
export class PartLengthError extends Error {
  override readonly name = 'PartLengthError';
}

/** Completing named a part not received, or with another ETag (S3's InvalidPart). */
export class InvalidPartError extends Error {
  override readonly name = 'InvalidPartError';
}

interface UploadManifest {
  readonly key: string;
  readonly contentType: string;
  readonly createdAt: string;
}

export class FileDirectTransfer implements DirectTransfer {
  /** `root`: DATA_DIR/uploads; `blobs`: where completed uploads become objects. */
  constructor(
    readonly root: string,
    readonly blobs: FileBlobStore,
    readonly signer: TransferSigner,
  ) {}

  /** The transfers of the data directory `dataDir`, whose objects are `blobs`. */
  static async open(dataDir: string, blobs: FileBlobStore): Promise<FileDirectTransfer> {
    const root = join(dataDir, TRANSFER_FILES.uploads);
    await mkdir(root, { recursive: true });
    return new FileDirectTransfer(root, blobs, new TransferSigner(await transferSecret(join(dataDir, TRANSFER_FILES.secret))));
  }

  async createMultipartUpload(key: string, contentType: string): Promise<string> {
    const id = randomBytes(16).toString('hex');
    await mkdir(join(this.root, id));
    const manifest: UploadManifest = { key, contentType, createdAt: new Date().toISOString() };
    await writeFile(join(this.root, id, 'upload.json'), JSON.stringify(manifest), { flag: 'wx', flush: true });
    return id;
  }

  async partUploadUrl(_key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    return this.signer.sign('PUT', partPath(uploadId, partNumber), {}, expiresInSeconds);
  }

  async listParts(key: string, uploadId: string): Promise<readonly UploadedPart[] | undefined> {
    const manifest = await this.manifest(uploadId);
    if (!manifest || manifest.key !== key) return undefined;
    const latest = new Map<number, UploadedPart & { mtime: number }>();
    for (const name of await readdir(join(this.root, uploadId)).catch(() => [] as string[])) {
      const match = PART_FILE.exec(name);
      if (!match) continue;
      const stats = await stat(join(this.root, uploadId, name)).catch(() => undefined);
      if (!stats) continue;
      const partNumber = Number(match[1]);
      const seen = latest.get(partNumber);
      // Two files of one part: a resend was renamed before the older was removed; the newer wins.
      if (!seen || stats.mtimeMs >= seen.mtime)
        latest.set(partNumber, { partNumber, size: stats.size, etag: `"${match[2]}"`, mtime: stats.mtimeMs });
    }
    return [...latest.values()]
      .sort((a, b) => a.partNumber - b.partNumber)
      .map(({ partNumber, size, etag }) => ({ partNumber, size, etag }));
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const received = await this.listParts(key, uploadId);
    if (!received) throw new UploadNotInProgressError('the upload is not in progress');
    const files = parts.map((part) => {
      const found = received.find((r) => r.partNumber === part.partNumber && r.etag === part.etag);
      if (!found) throw new InvalidPartError(`part ${part.partNumber} was not received with that ETag`);
      return join(this.root, uploadId, `${part.partNumber}.${part.etag.replace(/"/g, '')}.part`);
    });
    await this.blobs.putStream(
      key,
      (async function* () {
        for (const file of files) yield* createReadStream(file, { highWaterMark: 1024 * 1024 });
      })(),
    );
    await rm(join(this.root, uploadId), { recursive: true, force: true });
  }

  async abortMultipartUpload(_key: string, uploadId: string): Promise<void> {
    if (UPLOAD_ID.test(uploadId)) await rm(join(this.root, uploadId), { recursive: true, force: true });
  }

  async downloadUrl(
    key: string,
    expiresInSeconds: number,
    opts: { readonly contentType: string; readonly filename?: string },
  ): Promise<string> {
    const params = { type: opts.contentType, ...(opts.filename !== undefined && { filename: opts.filename }) };
    return this.signer.sign('GET', objectPath(key), params, expiresInSeconds);
  }

  /**
   * Receives one part (PUT of a signed part URL): `body` streamed to a temporary file, never held
   * whole, checked to be `contentLength` bytes, fsynced and renamed; resolves with its ETag (quoted).
   */
  async receivePart(uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, contentLength: number): Promise<string> {
    if (!(await this.manifest(uploadId))) throw new UploadNotInProgressError('the upload is not in progress');
    const dir = join(this.root, uploadId);
    const temporary = temporaryPath(join(dir, String(partNumber)));
    const md5 = createHash('md5');
    let received = 0;
    try {
      const file = await open(temporary, 'wx');
      try {
        for await (const chunk of body) {
          received += chunk.byteLength;
          if (received > contentLength) break;
          md5.update(chunk);
          await file.write(chunk);
        }
        if (received !== contentLength) throw new PartLengthError(`the part's body is not the ${contentLength} bytes its request declared`);
        await file.datasync();
      } finally {
        await file.close();
      }
      const etag = md5.digest('hex');
      // The directory is gone when the upload was completed or aborted meanwhile: rename fails, 404.
      await rename(temporary, join(dir, `${partNumber}.${etag}.part`)).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT' ? new UploadNotInProgressError('the upload is not in progress') : error;
      });
      for (const name of await readdir(dir)) {
        const match = PART_FILE.exec(name);
        if (match && Number(match[1]) === partNumber && match[2] !== etag) await unlink(join(dir, name)).catch(() => undefined);
      }
      return `"${etag}"`;
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotInProgressError('the upload is not in progress');
      throw error;
    }
  }

  /**
   * Removes the uploads created before `before` (epoch ms) and not completed, and the joined objects
   * (`uploads/` keys) last written before it, which a complete cut short left behind (a complete
   * deletes its own once stored); as S3's lifecycle rule does in AWS. Answers how many it removed.
   */
  async sweep(before: number): Promise<number> {
    let removed = 0;
    const joined = join(this.blobs.root, KEY_PREFIXES.uploads);
    for (const name of await readdir(joined).catch(() => [] as string[])) {
      const stats = await stat(join(joined, name)).catch(() => undefined);
      if (stats?.isFile() && stats.mtimeMs < before) {
        await this.blobs.delete([`${KEY_PREFIXES.uploads}${name}`]).catch(() => undefined);
        removed++;
      }
    }
    for (const id of await readdir(this.root).catch(() => [] as string[])) {
      if (!UPLOAD_ID.test(id)) continue;
      const manifest = await this.manifest(id);
      const created = manifest ? Date.parse(manifest.createdAt) : (await stat(join(this.root, id)).catch(() => undefined))?.mtimeMs;
      if (created !== undefined && created < before) {
        await rm(join(this.root, id), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  private async manifest(uploadId: string): Promise<UploadManifest | undefined> {
    if (!UPLOAD_ID.test(uploadId)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.root, uploadId, 'upload.json'), 'utf8')) as UploadManifest;
    } catch {
      return undefined;
    }
  }
}

/** The path of a part's signed URL. */
export function partPath(uploadId: string, partNumber: number): string {
  return `${TRANSFER_PATH}/uploads/${uploadId}/parts/${partNumber}`;
}

/** The path of an object's signed URL: its key's segments, each URL-encoded. */
export function objectPath(key: string): string {
  return `${TRANSFER_PATH}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
}
