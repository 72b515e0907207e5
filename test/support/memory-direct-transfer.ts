/**
 * In-memory DirectTransfer (lambdas/storage/direct-transfer.ts) for unit tests: multipart uploads in
 * maps, completed into a MemoryBlobStore; its URLs (`memory://transfer/...`) are answered by `fetch`,
 * which acts as S3 answers presigned URLs (ETag on a part, ranges on an object), expiry included.
 * test/contract/direct-transfer.contract.ts holds it to the same contract as the real adapters.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DirectTransfer, UploadedPart } from '../../lambdas/storage/ports';
import type { MemoryBlobStore } from './memory-blobs';

interface Upload {
  readonly key: string;
  readonly contentType: string;
  readonly parts: Map<number, { body: Uint8Array; etag: string }>;
}

const BASE = 'memory://transfer';

export class MemoryDirectTransfer implements DirectTransfer {
  readonly uploads = new Map<string, Upload>();

  constructor(
    readonly blobs: MemoryBlobStore,
    private readonly now: () => number = Date.now,
  ) {}

  async createMultipartUpload(key: string, contentType: string): Promise<string> {
    const id = randomBytes(12).toString('hex');
    this.uploads.set(id, { key, contentType, parts: new Map() });
    return id;
  }

  async partUploadUrl(_key: string, uploadId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    return `${BASE}/uploads/${uploadId}/parts/${partNumber}?expires=${this.now() + expiresInSeconds * 1000}`;
  }

  async listParts(key: string, uploadId: string): Promise<readonly UploadedPart[] | undefined> {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) return undefined;
    return [...upload.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, p]) => ({ partNumber, size: p.body.byteLength, etag: p.etag }));
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new Error('NoSuchUpload');
    const bodies = parts.map((p) => {
      const got = upload.parts.get(p.partNumber);
      if (!got || got.etag !== p.etag) throw new Error(`InvalidPart ${p.partNumber}`);
      return got.body;
    });
    await this.blobs.put(key, Buffer.concat(bodies), upload.contentType);
    this.uploads.delete(uploadId);
  }

  async abortMultipartUpload(_key: string, uploadId: string): Promise<void> {
    this.uploads.delete(uploadId);
  }

  async downloadUrl(
    key: string,
    expiresInSeconds: number,
    opts: { readonly contentType: string; readonly filename?: string },
  ): Promise<string> {
    const query = new URLSearchParams({ expires: String(this.now() + expiresInSeconds * 1000), type: opts.contentType });
    if (opts.filename !== undefined) query.set('filename', opts.filename);
    return `${BASE}/objects/${key}?${query.toString()}`;
  }

  /** What a client's fetch of one of this adapter's URLs gets. */
  async fetch(url: string, init: { method?: string; body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
    const parsed = new URL(url);
    if (Number(parsed.searchParams.get('expires')) <= this.now()) return new Response('expired', { status: 403 });
    const path = parsed.pathname;
    const part = /^\/uploads\/([0-9a-f]+)\/parts\/(\d+)$/.exec(path);
    if (init.method === 'PUT' && part) {
      const upload = this.uploads.get(part[1]!);
      if (!upload) return new Response('NoSuchUpload', { status: 404 });
      const body = Uint8Array.from(init.body ?? new Uint8Array());
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      upload.parts.set(Number(part[2]), { body, etag });
      return new Response(null, { status: 200, headers: { ETag: etag } });
    }
    const object = /^\/objects\/(.+)$/.exec(path);
    if ((init.method ?? 'GET') === 'GET' && object) {
      const blob = this.blobs.objects.get(object[1]!);
      if (!blob) return new Response('NoSuchKey', { status: 404 });
      const headers: Record<string, string> = { 'Content-Type': parsed.searchParams.get('type') ?? 'application/octet-stream' };
      const filename = parsed.searchParams.get('filename');
      if (filename) headers['Content-Disposition'] = `attachment; filename="${filename}"`;
      const range = /^bytes=(\d+)-(\d*)$/.exec(init.headers?.Range ?? init.headers?.range ?? '');
      if (!range) return new Response(blob.body, { status: 200, headers });
      const start = Number(range[1]);
      const end = range[2] === '' ? blob.body.byteLength : Math.min(blob.body.byteLength, Number(range[2]) + 1);
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${blob.body.byteLength}`;
      return new Response(blob.body.slice(start, end), { status: 206, headers });
    }
    return new Response('not found', { status: 404 });
  }
}
