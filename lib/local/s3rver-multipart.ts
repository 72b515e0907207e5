/**
 * The multipart calls s3rver 3.7 lacks, so the S3 adapters (lambdas/storage/s3-direct-transfer.ts,
 * s3.ts) run unchanged on the embedded S3: ListParts (GET ?uploadId), AbortMultipartUpload
 * (DELETE ?uploadId), UploadPartCopy (PUT ?uploadId with x-amz-copy-source); and what S3 does that
 * s3rver does not: NoSuchUpload for an unknown upload (UploadPart and CompleteMultipartUpload too),
 * a completed part list checked (InvalidPart, InvalidPartOrder, EntityTooSmall below 5 MiB but the
 * last), UploadPart answered once its part is written whole. Answers in S3's XML (Amazon S3 API
 * Reference). A layer of s3rver's own router, after its authentication (presigned URLs checked as
 * before), before its object routes. Parts are s3rver's files: `{bucket}/._S3rver_uploads/{uploadId}/`
 * holds `key`, `metadata`, and per part `{n}` with `{n}.md5`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The part of a Koa context (s3rver's) these calls read and write. */
interface S3rverContext {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | string[] | undefined>;
  params: { bucket: string; key: string; queryMethod?: string };
  req: Readable;
  href: string;
  status: number;
  body: unknown;
  store: FilesystemStore;
}
interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, kind: string): string;
  getMetadata(bucket: string, key: string): Promise<{ 'content-length': number }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
  putObjectMultipart(bucket: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<{ md5: string }>;
}
type Middleware = (ctx: S3rverContext, next: () => Promise<unknown>) => Promise<unknown>;
interface RouterLayer {
  path: string;
  methods: string[];
}
interface Router {
  stack: RouterLayer[];
  use(path: string, middleware: Middleware): Router;
}

const fromS3rver = createRequire(createRequire(import.meta.url).resolve('s3rver'));
const router = fromS3rver('./routes') as Router;
const FilesystemStoreClass = fromS3rver('./stores/filesystem') as { prototype: FilesystemStore };
const S3Error = fromS3rver('./models/error') as new (code: string, message: string, detail?: Record<string, unknown>) => Error;
const xmlParser = fromS3rver('fast-xml-parser') as {
  validate(xml: string): true | object;
  parse(xml: string, options: { parseNodeValue: boolean; tagValueProcessor: (value: string) => string }): unknown;
};
const he = fromS3rver('he') as { decode(text: string): string };

/** S3's smallest part but the last (Amazon S3 User Guide, "Multipart upload limits"). */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
/** ListParts answers at most 1000 parts a page (its max-parts default and bound). */
const MAX_PARTS_PAGE = 1000;
const OBJECT_ROUTE = '/:bucket/:key+';

/** An uploaded part as S3 lists it: the ETag quoted, as UploadPart returned it. */
interface StoredPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: Date;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function uploadDir(ctx: S3rverContext, uploadId: string): string {
  // s3rver's ids are hex; anything else names no upload (and no path outside the uploads directory).
  if (!/^[0-9a-f]{1,64}$/.test(uploadId)) throw noSuchUpload();
  return join(ctx.store.getResourcePath(ctx.params.bucket, undefined, 'uploads'), uploadId);
}

function noSuchUpload(): Error {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );
}

/** The upload's directory, when the upload is in progress for this key; NoSuchUpload otherwise. */
async function openUpload(ctx: S3rverContext): Promise<string> {
  const dir = uploadDir(ctx, one(ctx.query.uploadId) ?? '');
  const key = await readFile(join(dir, 'key'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (key !== ctx.params.key) throw noSuchUpload();
  return dir;
}

/** The parts received, in part order; a part whose write has not finished (no `.md5` yet) is not one. */
async function storedParts(dir: string): Promise<StoredPart[]> {
  const names = (await readdir(dir)).filter((name) => /^[1-9][0-9]*$/.test(name));
  const parts = await Promise.all(
    names.map(async (name): Promise<StoredPart | undefined> => {
      try {
        const [md5, stats] = await Promise.all([readFile(join(dir, `${name}.md5`), 'utf8'), stat(join(dir, name))]);
        return { partNumber: Number(name), etag: JSON.stringify(md5), size: stats.size, lastModified: stats.mtime };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    }),
  );
  return parts.filter((p): p is StoredPart => p !== undefined).sort((a, b) => a.partNumber - b.partNumber);
}

function partNumberOf(ctx: S3rverContext): number {
  const text = one(ctx.query.partNumber) ?? '';
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1 || n > MAX_PART_NUMBER) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: text,
    });
  }
  return n;
}

/** ListParts: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html */
async function listParts(ctx: S3rverContext): Promise<void> {
  const dir = await openUpload(ctx);
  const marker = Number(one(ctx.query['part-number-marker']) ?? 0) || 0;
  const maxParts = Math.min(MAX_PARTS_PAGE, Number(one(ctx.query['max-parts']) ?? MAX_PARTS_PAGE) || MAX_PARTS_PAGE);
  const after = (await storedParts(dir)).filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  ctx.body = {
    ListPartsResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      Bucket: ctx.params.bucket,
      Key: ctx.params.key,
      UploadId: one(ctx.query.uploadId),
      PartNumberMarker: marker,
      NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      StorageClass: 'STANDARD',
      Part: page.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: p.lastModified.toISOString(),
        ETag: p.etag,
        Size: p.size,
      })),
    },
  };
}

/** AbortMultipartUpload: https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html */
async function abortMultipartUpload(ctx: S3rverContext): Promise<void> {
  await rm(await openUpload(ctx), { recursive: true, force: true });
  ctx.status = 204;
}

/** UploadPartCopy: https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html */
async function uploadPartCopy(ctx: S3rverContext): Promise<void> {
  await openUpload(ctx);
  const partNumber = partNumberOf(ctx);
  // As s3rver's CopyObject reads it: "{bucket}/{key}", URL-encoded, with or without a leading slash.
  const source = decodeURI(one(ctx.headers['x-amz-copy-source']) ?? '')
    .replace(/^\//, '')
    .split('?')[0]!;
  const [sourceBucket = '', ...rest] = source.split('/');
  const sourceKey = rest.join('/');
  const size = await ctx.store
    .getMetadata(sourceBucket, sourceKey)
    .then((m) => Number(m['content-length']))
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: sourceKey });
      throw error;
    });
  let range = { start: 0, end: size - 1 };
  const rangeHeader = one(ctx.headers['x-amz-copy-source-range']);
  if (rangeHeader !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader);
    range = { start: Number(m?.[1]), end: Number(m?.[2]) };
    if (!m || range.start > range.end || range.end >= size) {
      throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: rangeHeader });
    }
  }
  // Read here rather than by the store's getObject, which takes an end of 0 for "to the end".
  const content = size === 0 ? Readable.from([]) : createReadStream(ctx.store.getResourcePath(sourceBucket, sourceKey, 'object'), range);
  const { md5 } = await ctx.store.putPart(ctx.params.bucket, one(ctx.query.uploadId)!, partNumber, content);
  ctx.body = { CopyPartResult: { LastModified: new Date().toISOString(), ETag: JSON.stringify(md5) } };
}

async function readBody(req: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** CompleteMultipartUpload: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html */
async function completeMultipartUpload(ctx: S3rverContext): Promise<void> {
  const dir = await openUpload(ctx);
  const xml = await readBody(ctx.req);
  const malformed = () =>
    new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  if (xmlParser.validate(xml) !== true) throw malformed();
  const doc = xmlParser.parse(xml, { parseNodeValue: false, tagValueProcessor: (v) => he.decode(v) }) as {
    CompleteMultipartUpload?: { Part?: unknown };
  };
  const listed = [doc.CompleteMultipartUpload?.Part ?? []].flat() as { PartNumber?: unknown; ETag?: unknown }[];
  if (listed.length === 0) throw malformed();
  if (listed.some((p, i) => i > 0 && !(Number(p.PartNumber) > Number(listed[i - 1]!.PartNumber)))) {
    throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
  }
  const stored = new Map((await storedParts(dir)).map((p) => [p.partNumber, p]));
  const parts = listed.map((p, i) => {
    const number = Number(p.PartNumber);
    const etag = String(p.ETag ?? '').replace(/"/g, '');
    const part = stored.get(number);
    if (!part || part.etag !== JSON.stringify(etag)) {
      throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found.', { PartNumber: number, ETag: etag });
    }
    if (i < listed.length - 1 && part.size < MIN_PART_BYTES) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: part.size,
        MinSizeAllowed: MIN_PART_BYTES,
        PartNumber: number,
      });
    }
    return { number, etag };
  });
  const { md5 } = await ctx.store.putObjectMultipart(ctx.params.bucket, one(ctx.query.uploadId)!, parts);
  ctx.body = {
    CompleteMultipartUploadResult: {
      Location: ctx.href.split('?')[0],
      Bucket: ctx.params.bucket,
      Key: ctx.params.key,
      ETag: JSON.stringify(`${md5}-${parts.length}`),
    },
  };
}

/** Streams `source` to the file at `path`, resolving once the file is written and closed: its size and MD5 (hex). */
export async function writeHashed(source: Readable | NodeJS.ReadableStream, path: string): Promise<{ size: number; md5: string }> {
  const md5 = createHash('md5');
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(source, counted, createWriteStream(path));
  return { size, md5: md5.digest('hex') };
}

/**
 * UploadPart's store call: the part streamed to a temporary file, renamed over `{n}` once written
 * whole, then its `{n}.md5`; a part sent again replaces the earlier one only when complete.
 */
async function putPart(this: FilesystemStore, bucket: string, uploadId: string, partNumber: number, content: Readable) {
  const dir = join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  await mkdir(dir, { recursive: true });
  const partPath = join(dir, String(partNumber));
  const temporary = `${partPath}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const written = await writeHashed(content, temporary);
    await rename(temporary, partPath);
    await writeFile(`${partPath}.md5`, written.md5);
    return written;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The object routes' calls on `?uploadId`, those of s3rver's routes.js left to it (UploadPart after the upload is checked). */
const multipartCalls: Middleware = async (ctx, next) => {
  if (ctx.params.queryMethod !== 'uploadId') return next();
  switch (ctx.method) {
    case 'GET':
      return listParts(ctx);
    case 'DELETE':
      return abortMultipartUpload(ctx);
    case 'POST':
      return completeMultipartUpload(ctx);
    case 'PUT':
      if (ctx.headers['x-amz-copy-source'] !== undefined) return uploadPartCopy(ctx);
      await openUpload(ctx);
      partNumberOf(ctx);
      return next();
    default:
      return next();
  }
};

let installed = false;

/**
 * Adds the calls to s3rver's router (one per process: the router is s3rver's module), placed after
 * the layers every object request passes (CORS, authentication, the bucket's existence, the query
 * method) and before the first object route.
 */
export function installS3rverMultipart(): void {
  if (installed) return;
  const firstRoute = router.stack.findIndex((layer) => layer.path === OBJECT_ROUTE && layer.methods.length > 0);
  if (firstRoute < 0) throw new Error(`s3rver's router has no ${OBJECT_ROUTE} route: its version is not the one this module patches`);
  router.use(OBJECT_ROUTE, multipartCalls);
  const layer = router.stack.pop()!;
  router.stack.splice(firstRoute, 0, layer);
  FilesystemStoreClass.prototype.putPart = putPart;
  installed = true;
}
