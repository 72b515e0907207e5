/**
 * The upload path of `npm run store`, for an instance above the Store request limit (docs/uploads.md,
 * an extension of the Studies Service): create the upload at the archive, PUT its parts straight to
 * object storage N at a time, each with its own retries and no Authorization header (S3 refuses a
 * presigned request carrying one), complete it, and hand back the Store Instances Response Module
 * (PS3.18 10.5.3) it answers. A completion whose connection drops, or that the archive is still
 * storing, is followed by polling the upload; parts the archive lacks at completion (409) are sent
 * again. The file is read from disk by ranges, a part at a time, never whole. An upload cut off is
 * kept in the journal (./upload-journal), and the next run resumes it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Tag } from '../../lambdas/dicom/tags';
import { readStatusReport } from '../../lambdas/send/send-client';
import { describeError } from './bulk-command';
import type { UploadJournal } from './upload-journal';

/** One part of an upload, as the archive describes it. */
export interface UploadPart {
  readonly partNumber: number;
  readonly offset: number;
  readonly length: number;
  readonly received: boolean;
  /** Where to PUT it: absolute (S3) or relative to the service root (the local engine). */
  readonly url?: string;
}

/** The Upload object of the archive (docs/uploads.md). */
export interface Upload {
  readonly uploadId: string;
  readonly state: 'UPLOADING' | 'STORING' | 'STORED' | 'ABORTED';
  readonly size: number;
  readonly partSize: number;
  readonly parts: readonly UploadPart[];
  readonly complete: string;
  readonly result?: StoreAnswer;
}

/** The Store's answer: its HTTP status and the Store Instances Response Module. */
export interface StoreAnswer {
  readonly status: number;
  readonly response: unknown;
}

/** An upload that did not end in a Store answer: why, and whether the next run may resume it. */
export interface UploadFailed {
  readonly failure: string;
  /** The archive refused the size itself (413: above its upload limit). */
  readonly tooLarge?: boolean;
}

export interface UploadOptions {
  /** The service root, without a trailing slash. */
  readonly baseUrl: string;
  /** The authenticated fetch, for the archive's upload resources. */
  readonly fetch: typeof fetch;
  /** A fetch without credentials, for the part URLs. */
  readonly partFetch: typeof fetch;
  /** Parts in flight at once. */
  readonly partConcurrency: number;
  readonly journal: UploadJournal;
  /** Bytes of a part the archive acknowledged (progress). */
  readonly onPartSent?: (bytes: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Between two polls of an upload being stored (default 1 s). */
  readonly pollIntervalMs?: number;
  /** How long an upload may stay STORING before the run gives up on it, resumable (default 30 min). */
  readonly storingTimeoutMs?: number;
}

const DICOM_JSON = 'application/dicom+json';
/** Tries of one part before the upload is left for the next run; the waits before each retry. */
const PART_RETRY_DELAYS_MS = [500, 1000, 2000, 4000];
/** Rounds of parts-then-complete an upload gets before it is left for the next run. */
const MAX_ROUNDS = 4;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** A fault ending this upload's attempt; `final` ones also end the upload (the journal forgets it). */
class UploadError extends Error {
  constructor(
    message: string,
    readonly final: boolean,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** A URL of the archive's answers: absolute as given, or relative to the service root. */
const resolve = (baseUrl: string, url: string) => (/^https?:\/\//.test(url) ? url : `${baseUrl}${url.startsWith('/') ? '' : '/'}${url}`);

async function reason(res: Response): Promise<string> {
  const report = readStatusReport(await res.text());
  return `HTTP ${res.status}${report?.detail ? `: ${report.detail}` : report?.title ? `: ${report.title}` : ''}`;
}

/** Stores one file through the upload path; never throws for what the archive or the network does. */
export async function uploadInstance(
  file: { readonly path: string; readonly size: number },
  opts: UploadOptions,
): Promise<StoreAnswer | UploadFailed> {
  const id = { baseUrl: opts.baseUrl, path: file.path, size: file.size, mtimeMs: (await stat(file.path)).mtimeMs };
  try {
    let located = await resumed(id, opts);
    if (!located) {
      located = await createUpload(file.size, opts);
      await opts.journal.record({ ...id, uploadUrl: located.url });
    }
    const answer = await finish(located.url, located.upload, file.path, opts);
    await opts.journal.forget(id);
    return answer;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    if (err instanceof UploadError && err.final) {
      await opts.journal.forget(id);
      return { failure: err.message, ...(err.tooLarge && { tooLarge: true }) };
    }
    return { failure: `upload not finished (${describeError(err)}); run again to resume it` };
  }
}

/** The upload the journal holds for this file, when the archive still has it open. */
async function resumed(
  id: { baseUrl: string; path: string; size: number; mtimeMs: number },
  opts: UploadOptions,
): Promise<{ url: string; upload: Upload } | undefined> {
  const entry = opts.journal.find(id);
  if (!entry) return undefined;
  const res = await opts.fetch(entry.uploadUrl, { headers: { Accept: 'application/json' } });
  if (res.ok) {
    const upload = (await res.json()) as Upload;
    if (upload.state !== 'ABORTED' && upload.size === id.size) return { url: entry.uploadUrl, upload };
  } else await res.body?.cancel();
  // Gone, expired, aborted or of another size: a new upload.
  await opts.journal.forget(id);
  return undefined;
}

/** POST {base}/uploads with the file's size: 201 and the Upload object. */
async function createUpload(size: number, opts: UploadOptions): Promise<{ url: string; upload: Upload }> {
  const res = await opts.fetch(`${opts.baseUrl}/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ size }),
  });
  if (res.status !== 201) throw new UploadError(`the archive refused the upload: ${await reason(res)}`, true, res.status === 413);
  const upload = (await res.json()) as Upload;
  const location = res.headers.get('location');
  return { url: location ? resolve(opts.baseUrl, location) : `${opts.baseUrl}/uploads/${encodeURIComponent(upload.uploadId)}`, upload };
}

async function getUpload(url: string, opts: UploadOptions): Promise<Upload> {
  for (let attempt = 0; ; attempt++) {
    const res = await opts.fetch(url, { headers: { Accept: 'application/json' } }).catch((err: unknown) => {
      if (attempt >= PART_RETRY_DELAYS_MS.length || !(err instanceof TypeError)) throw err;
      return undefined;
    });
    if (res?.ok) return (await res.json()) as Upload;
    if (res && !RETRY_STATUSES.has(res.status)) {
      throw new UploadError(`the upload cannot be read back: ${await reason(res)}`, res.status === 404 || res.status === 410);
    }
    await res?.body?.cancel();
    if (attempt >= PART_RETRY_DELAYS_MS.length) throw new UploadError('the archive did not answer for the upload', false);
    await (opts.sleep ?? delay)(PART_RETRY_DELAYS_MS[attempt]!);
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Parts, completion and polling until the Store has answered. */
async function finish(url: string, first: Upload, path: string, opts: UploadOptions): Promise<StoreAnswer> {
  const sleep = opts.sleep ?? delay;
  let upload = first;
  let rounds = 0;
  let storingSince: number | undefined;
  for (;;) {
    if (upload.state === 'STORED') {
      if (!upload.result) throw new UploadError('the archive stored the upload without its answer', true);
      return upload.result;
    }
    if (upload.state === 'ABORTED') throw new UploadError('the upload was aborted or has expired', true);
    if (upload.state === 'UPLOADING') {
      storingSince = undefined;
      if (++rounds > MAX_ROUNDS) throw new UploadError(`the archive still lacks parts after ${MAX_ROUNDS} rounds`, false);
      await sendParts(url, upload, path, opts);
      const answer = await complete(upload, opts);
      if (answer) return answer;
    } else {
      // STORING: the archive reads and indexes the object; polled until it answers.
      storingSince ??= Date.now();
      if (Date.now() - storingSince > (opts.storingTimeoutMs ?? 30 * 60_000)) {
        throw new UploadError('the archive is still storing the upload', false);
      }
      await sleep(opts.pollIntervalMs ?? 1000);
    }
    upload = await getUpload(url, opts);
  }
}

/**
 * POST the upload's complete resource. The Store's answer (200, 202, or 409 with a Store Instances
 * Response Module); undefined when the upload must be read back: the connection dropped, the archive
 * was busy, or a 409 Status Report named missing parts.
 */
async function complete(upload: Upload, opts: UploadOptions): Promise<StoreAnswer | undefined> {
  let res: Response;
  try {
    res = await opts.fetch(resolve(opts.baseUrl, upload.complete), { method: 'POST', headers: { Accept: DICOM_JSON } });
  } catch (err) {
    if (err instanceof TypeError) return undefined;
    throw err;
  }
  if (RETRY_STATUSES.has(res.status)) return void (await res.body?.cancel());
  const text = await res.text();
  if ([200, 202, 409].includes(res.status)) {
    const module = storeModule(text);
    if (module) return { status: res.status, response: module };
    if (res.status === 409) return undefined; // missing or short parts: the upload stays open
  }
  const report = readStatusReport(text);
  throw new UploadError(
    `the archive refused to complete the upload: HTTP ${res.status}${report?.detail ? `: ${report.detail}` : ''}`,
    true,
  );
}

/** A Store Instances Response Module (PS3.18 10.5.3) in a body, else undefined (a Status Report). */
function storeModule(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    const module = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | undefined;
    const tags = [Tag.ReferencedSOPSequence, Tag.FailedSOPSequence, Tag.RetrieveURL];
    return module && typeof module === 'object' && tags.some((t) => t in module) ? module : undefined;
  } catch {
    return undefined;
  }
}

/** PUTs the parts the archive has not received, `partConcurrency` at a time. */
async function sendParts(url: string, upload: Upload, path: string, opts: UploadOptions): Promise<void> {
  const pending = upload.parts.filter((p) => !p.received);
  let next = 0;
  const worker = async () => {
    while (next < pending.length) await putPart(url, pending[next++]!, path, opts);
  };
  await Promise.all(Array.from({ length: Math.min(opts.partConcurrency, pending.length) }, worker));
}

/**
 * One part, with its own retries: a dropped connection or a busy answer is tried again after a wait;
 * an expired URL (403) is replaced by the fresh one a GET of the upload gives. No Authorization
 * header: the URL is the credential.
 */
async function putPart(uploadUrl: string, part: UploadPart, path: string, opts: UploadOptions): Promise<void> {
  let partUrl = part.url;
  let last = '';
  for (let attempt = 0; attempt <= PART_RETRY_DELAYS_MS.length; attempt++) {
    if (attempt > 0) await (opts.sleep ?? delay)(PART_RETRY_DELAYS_MS[attempt - 1]!);
    if (partUrl === undefined) {
      const fresh = (await getUpload(uploadUrl, opts)).parts.find((p) => p.partNumber === part.partNumber);
      if (!fresh || fresh.received) return;
      partUrl = fresh.url;
      if (partUrl === undefined) throw new UploadError(`part ${part.partNumber} has no URL: the upload is no longer open`, false);
    }
    try {
      const body = createReadStream(path, { start: part.offset, end: part.offset + part.length - 1 });
      const res = await opts.partFetch(resolve(opts.baseUrl, partUrl), {
        method: 'PUT',
        headers: { 'Content-Length': String(part.length) },
        body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as RequestInit);
      if (res.ok) {
        await res.body?.cancel();
        opts.onPartSent?.(part.length);
        return;
      }
      last = await reason(res);
      if (res.status === 403)
        partUrl = undefined; // expired: a fresh URL from the upload
      else if (!RETRY_STATUSES.has(res.status)) throw new UploadError(`part ${part.partNumber} refused: ${last}`, false);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      last = describeError(err);
    }
  }
  throw new UploadError(`part ${part.partNumber} not sent after ${PART_RETRY_DELAYS_MS.length + 1} tries (${last})`, false);
}
