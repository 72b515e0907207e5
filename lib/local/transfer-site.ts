/**
 * The local engine's signed transfer URLs served by the embedded gateway under /_transfer/, before the
 * route table (docs/uploads.md): what S3 answers for presigned URLs in AWS. Not DICOMweb resources;
 * the signature is the only credential (no Authorization header is read).
 *
 *   PUT /_transfer/uploads/{multipartUploadId}/parts/{n}?expires&signature   one part of an upload:
 *       streamed to disk, never buffered whole; 200 with its ETag. 403 bad or expired signature,
 *       400 a body shorter or longer than its Content-Length (411 without one), 404 upload not in progress.
 *   GET (or HEAD) /_transfer/objects/{key}?expires&type&filename&signature   an object, one byte
 *       range when asked (RFC 9110 14), with the signed Content-Type and an attachment filename.
 *
 * Browsers on an allowed origin (CORS_ALLOWED_ORIGINS) may PUT parts and read the ETag, as the S3
 * bucket's CORS rule lets them in AWS (lib/constructs/storage.ts).
 */
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, DicomwebError, ForbiddenError, MethodNotAllowedError, NotFoundError } from '../../lambdas/dicomweb/errors';
import { corsResponseHeaders } from '../../lambdas/http/cors';
import { errorResponse } from '../../lambdas/http/middleware';
import { toProxyResult } from '../../lambdas/http/proxy';
import {
  FileDirectTransfer,
  MAX_PART_NUMBER,
  objectPath,
  PartLengthError,
  partPath,
  UploadNotInProgressError,
} from '../../lambdas/storage/local/file-transfer';
import { TRANSFER_PATH } from '../../lambdas/storage/local/transfer-signature';
import { startHourlySweep } from './sweeps';

const PART = /^\/_transfer\/uploads\/([0-9a-f]{32})\/parts\/([1-9][0-9]{0,4})$/;
const OBJECT = /^\/_transfer\/objects\/(.+)$/;

class LengthRequiredError extends DicomwebError {
  readonly status = 411;
}
class RangeNotSatisfiableError extends DicomwebError {
  readonly status = 416;
}

export interface TransferSite {
  handles(pathname: string): boolean;
  /** Answers the request (its body included); never rejects. */
  serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, query: URLSearchParams): Promise<void>;
}

export function transferSite(transfer: FileDirectTransfer, corsAllowedOrigins: readonly string[] = []): TransferSite {
  return {
    handles: (pathname) => pathname.startsWith(`${TRANSFER_PATH}/`),
    async serve(req, res, pathname, query) {
      const origin = req.headers.origin;
      const cors = typeof origin === 'string' && corsAllowedOrigins.includes(origin) ? corsResponseHeaders(origin) : {};
      try {
        const method = (req.method ?? 'GET').toUpperCase();
        if (method === 'OPTIONS' && cors['Access-Control-Allow-Origin']) {
          req.resume();
          res.writeHead(204, {
            ...cors,
            'Access-Control-Allow-Methods': 'PUT, GET, HEAD',
            'Access-Control-Allow-Headers': 'Content-Type, Range',
          });
          res.end();
          return;
        }
        const part = PART.exec(pathname);
        if (part) {
          if (method !== 'PUT') throw new MethodNotAllowedError(`${method} is not allowed on a part`, ['PUT']);
          const [, uploadId, n] = part as unknown as [string, string, string];
          const partNumber = Number(n);
          if (partNumber > MAX_PART_NUMBER) throw new NotFoundError('no such part');
          checkSignature(transfer, 'PUT', partPath(uploadId, partNumber), query);
          const declared = req.headers['content-length'];
          if (declared === undefined) throw new LengthRequiredError('a part is sent with its Content-Length');
          const etag = await transfer.receivePart(uploadId, partNumber, req, Number(declared));
          res.writeHead(200, { ...cors, ETag: etag, 'Content-Length': '0' });
          res.end();
          return;
        }
        const object = OBJECT.exec(pathname);
        if (!object) throw new NotFoundError(`nothing at ${pathname}`);
        if (method !== 'GET' && method !== 'HEAD')
          throw new MethodNotAllowedError(`${method} is not allowed on an object`, ['GET', 'HEAD']);
        req.resume();
        const key = object[1]!.split('/').map(decodeURIComponent).join('/');
        checkSignature(transfer, 'GET', objectPath(key), query);
        await serveObject(transfer, req, res, key, query, cors, method === 'HEAD');
      } catch (error) {
        // The client went away mid-request (a cut part): nobody to answer, nothing to log.
        if (req.destroyed && !req.complete) return;
        req.resume();
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const result = await toProxyResult(errorResponse(asHttpError(error)), false);
        const body = Buffer.from(result.body as string, result.isBase64Encoded ? 'base64' : 'utf8');
        // An unread request body cannot be trusted to drain: the connection ends with the answer.
        res.writeHead(result.statusCode, { ...result.headers, ...cors, 'Content-Length': String(body.length), Connection: 'close' });
        res.end(body);
      }
    },
  };
}

function checkSignature(transfer: FileDirectTransfer, method: string, path: string, query: URLSearchParams): void {
  const verdict = transfer.signer.verify(method, path, query);
  if (verdict === 'expired') throw new ForbiddenError('the signed URL has expired; ask the archive for a fresh one');
  if (verdict !== 'valid') throw new ForbiddenError('the URL signature does not match');
}

function asHttpError(error: unknown): unknown {
  if (error instanceof UploadNotInProgressError) return new NotFoundError('the upload is not in progress (completed, aborted or expired)');
  if (error instanceof PartLengthError) return new BadRequestError(error.message);
  return error;
}

async function serveObject(
  transfer: FileDirectTransfer,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  key: string,
  query: URLSearchParams,
  cors: Record<string, string>,
  headOnly: boolean,
): Promise<void> {
  const size = await transfer.blobs.size(key);
  if (size === undefined) throw new NotFoundError('no such object');
  const filename = query.get('filename');
  const headers: Record<string, string> = {
    ...cors,
    'Content-Type': query.get('type') ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-store',
    ...(filename && { 'Content-Disposition': `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"` }),
  };
  const range = byteRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${size}`);
    throw new RangeNotSatisfiableError(`the range is outside the object's ${size} bytes`);
  }
  const [start, end] = range ?? [0, size];
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'Content-Length': String(end - start),
    ...(range && { 'Content-Range': `bytes ${start}-${end - 1}/${size}` }),
  });
  if (headOnly || end === start) {
    res.end();
    return;
  }
  const stream = await transfer.blobs.getStream(key, start);
  if (!stream) throw new NotFoundError('no such object');
  await pipeline(limited(stream, end - start), res);
}

/** One range `bytes=a-b`, `bytes=a-` or `bytes=-n` as [start, end); undefined when absent or not one range (the whole object). */
export function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size : Math.min(size, Number(match[2]) + 1);
  if (start >= size || end <= start) return 'unsatisfiable';
  return [start, end];
}

async function* limited(stream: AsyncIterable<Uint8Array>, length: number): AsyncIterable<Uint8Array> {
  let left = length;
  for await (const chunk of stream) {
    if (left <= 0) break;
    const piece = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
    left -= piece.byteLength;
    yield piece;
  }
}

/**
 * Removes the parts of uploads created more than `expirySeconds` ago (UPLOAD_EXPIRY), now and every
 * hour, as S3's lifecycle rule aborts incomplete multipart uploads in AWS.
 */
export function startUploadSweeper(transfer: FileDirectTransfer, expirySeconds: number): { stop(): void } {
  return startHourlySweep('UploadSweep', () => transfer.sweep(Date.now() - expirySeconds * 1000));
}
