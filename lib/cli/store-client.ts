/**
 * The Store side of `npm run store`: asks the archive which instances it already holds (QIDO-RS,
 * PS3.18 10.6, one paged search per study), packs the others into STOW-RS requests within the
 * request limit (./store-pack), sends N at a time, stores those above the limit through the upload
 * path (./upload-client), and reads each Store Instances Response Module (PS3.18 10.5.3) into the
 * summary (./store-summary).
 */
import { newBoundary } from '../../lambdas/dicom/multipart';
import { Tag } from '../../lambdas/dicom/tags';
import { FailureReason } from '../../lambdas/dicomweb/status-codes';
import { readStatusReport } from '../../lambdas/send/send-client';
import { describeError } from './bulk-command';
import type { BulkProgress } from './bulk-progress';
import type { InstanceFile, SkippedFile } from './store-files';
import { packRequests, storeBody, storeContentType } from './store-pack';
import { failureReasonName, warningReasonName, type StoreFailure, type StoreSummary, type StoreWarning } from './store-summary';
import { uploadInstance, type UploadOptions } from './upload-client';
import { NO_JOURNAL, type UploadJournal } from './upload-journal';

const DICOM_JSON = 'application/dicom+json';
/** Instances asked per page of the per-study search. */
const SEARCH_PAGE = 1000;
/** Answers worth another try (a busy or restarting archive), and how long to wait before each. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const RETRY_DELAYS_MS = [1000, 3000];

export interface StoreRunOptions {
  /** The service root, e.g. http://127.0.0.1:8080 (no trailing slash). */
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly maxRequestBytes: number;
  readonly concurrency: number;
  readonly skipExisting: boolean;
  readonly progress: BulkProgress;
  /** A fetch without credentials, for the upload path's part URLs (default: `fetch` itself). */
  readonly partFetch?: typeof fetch;
  /** Parts of an upload in flight at once (default 4). */
  readonly partConcurrency?: number;
  /** Open uploads, resumed by the next run (default: none kept). */
  readonly journal?: UploadJournal;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Between two polls of an upload being stored (upload-client's default when absent). */
  readonly pollIntervalMs?: number;
}

type Json = Record<string, { Value?: unknown[] }>;

function first(item: Json, tag: string): unknown {
  return item[tag]?.Value?.[0];
}

/** Runs `work` over `items`, at most `concurrency` at a time. */
export async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const key = (series: string, sop: string) => `${series}\0${sop}`;

/**
 * The instances the archive holds of these studies, as Series + SOP Instance UID keys: one search per
 * study (/studies/{uid}/instances), paged, rather than one per file.
 */
export async function existingInstances(studyUIDs: readonly string[], opts: StoreRunOptions): Promise<Set<string>> {
  const held = new Set<string>();
  await inPool(studyUIDs, opts.concurrency, async (study) => {
    for (let offset = 0; ;) {
      const url = `${opts.baseUrl}/studies/${encodeURIComponent(study)}/instances?includefield=${Tag.SeriesInstanceUID}&limit=${SEARCH_PAGE}&offset=${offset}`;
      const res = await opts.fetch(url, { headers: { Accept: DICOM_JSON } });
      if (res.status === 204 || res.status === 404) return void (await res.body?.cancel());
      if (!res.ok) throw new Error(`searching the instances of study ${study} failed: HTTP ${res.status}`);
      const items = (await res.json()) as Json[];
      for (const item of items)
        held.add(key(String(first(item, Tag.SeriesInstanceUID) ?? ''), String(first(item, Tag.SOPInstanceUID) ?? '')));
      if (items.length === 0) return;
      offset += items.length;
    }
  });
  return held;
}

interface Outcomes {
  stored: number;
  requests: number;
  bytesSent: number;
  readonly failed: StoreFailure[];
  readonly warnings: StoreWarning[];
}

/** Fetch with a couple of retries on a busy archive or a dropped connection; the last answer or error stands. */
async function fetchWithRetry(opts: StoreRunOptions, url: string, init: () => RequestInit): Promise<Response> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    const delay = RETRY_DELAYS_MS[attempt];
    try {
      const res = await opts.fetch(url, init());
      if (delay === undefined || !RETRY_STATUSES.has(res.status)) return res;
      await res.body?.cancel();
    } catch (err) {
      if (delay === undefined || !(err instanceof TypeError)) throw err;
    }
    await sleep(delay);
  }
}

/** Reads a Store response into the outcomes of its files, matched by SOP Instance UID. */
async function readStoreResponse(res: Response, files: readonly InstanceFile[], out: Outcomes, progress: BulkProgress): Promise<void> {
  const text = await res.text();
  const byUid = new Map<string, InstanceFile[]>();
  for (const f of files) byUid.set(f.sopInstanceUID, [...(byUid.get(f.sopInstanceUID) ?? []), f]);
  // A file whose UIDs were not read here is matched to an answer whose UID is not among the others'.
  const take = (uid: string): InstanceFile | undefined => byUid.get(uid)?.shift() ?? byUid.get('')?.shift();

  let module: Json | undefined;
  if ([200, 202, 409].includes(res.status)) {
    try {
      const parsed: unknown = JSON.parse(text);
      module = (Array.isArray(parsed) ? parsed[0] : parsed) as Json;
    } catch {
      module = undefined;
    }
  }
  if (!module) {
    const report = readStatusReport(text);
    const reason = `HTTP ${res.status}${report?.detail ? `: ${report.detail}` : report?.title ? `: ${report.title}` : ''}`;
    const tooLarge = res.status === 413 ? { tooLarge: true } : {};
    for (const f of files) out.failed.push({ path: f.path, sopInstanceUID: f.sopInstanceUID, reason, ...tooLarge });
    return;
  }
  const items = (tag: string) => (module[tag]?.Value ?? []) as Json[];
  for (const item of items(Tag.ReferencedSOPSequence)) {
    const file = take(String(first(item, Tag.ReferencedSOPInstanceUID) ?? ''));
    if (!file) continue;
    out.stored++;
    const warning = first(item, Tag.WarningReason);
    if (typeof warning === 'number')
      out.warnings.push({ path: file.path, sopInstanceUID: file.sopInstanceUID, warning: warningReasonName(warning) });
  }
  for (const item of items(Tag.FailedSOPSequence)) {
    const file = take(String(first(item, Tag.ReferencedSOPInstanceUID) ?? ''));
    if (!file) continue;
    const code = first(item, Tag.FailureReason);
    const failureReason = typeof code === 'number' ? code : undefined;
    out.failed.push({
      path: file.path,
      sopInstanceUID: file.sopInstanceUID,
      reason: failureReason === undefined ? 'failed, no Failure Reason given' : failureReasonName(failureReason),
      ...(failureReason === undefined ? {} : { failureReason }),
    });
  }
  const answered = new Set(files);
  for (const left of byUid.values()) for (const f of left) answered.delete(f);
  const warningHeader = res.headers.get('warning');
  for (const f of files)
    if (!answered.has(f))
      out.failed.push({ path: f.path, sopInstanceUID: f.sopInstanceUID, reason: 'the Store response does not mention it' });
  if (warningHeader) progress.notice(`Warning: ${warningHeader}`);
}

/**
 * An instance above the request limit, through the upload path: its parts counted in the progress as
 * they go, the Store's answer read like a STOW-RS response.
 */
async function storeByUpload(file: InstanceFile, opts: StoreRunOptions, out: Outcomes): Promise<void> {
  let sent = 0;
  const uploadOptions: UploadOptions = {
    baseUrl: opts.baseUrl,
    fetch: opts.fetch,
    partFetch: opts.partFetch ?? opts.fetch,
    partConcurrency: opts.partConcurrency ?? 4,
    journal: opts.journal ?? NO_JOURNAL,
    onPartSent: (bytes) => {
      sent += bytes;
      opts.progress.advance(0, bytes);
    },
    ...(opts.sleep && { sleep: opts.sleep }),
    ...(opts.pollIntervalMs !== undefined && { pollIntervalMs: opts.pollIntervalMs }),
  };
  const answer = await uploadInstance(file, uploadOptions);
  out.requests++;
  out.bytesSent += sent;
  if ('failure' in answer) {
    out.failed.push({
      path: file.path,
      sopInstanceUID: file.sopInstanceUID,
      reason: answer.failure,
      ...(answer.tooLarge && { tooLarge: true }),
    });
  } else {
    await readStoreResponse(new Response(JSON.stringify(answer.response), { status: answer.status }), [file], out, opts.progress);
  }
  // Parts the archive held from an earlier run, and those of a failed upload, complete the file's bytes.
  opts.progress.advance(1, Math.max(0, file.size - sent));
}

/** Stores the instances found; `notes` (files not sent) go into the summary as they are. */
export async function storeInstances(
  instances: readonly InstanceFile[],
  notes: readonly SkippedFile[],
  opts: StoreRunOptions,
): Promise<StoreSummary> {
  const now = opts.now ?? Date.now;
  const start = now();
  const { progress } = opts;
  progress.addTotal(
    instances.length,
    instances.reduce((n, f) => n + f.size, 0),
  );

  let toSend = instances;
  let skipped = 0;
  if (opts.skipExisting) {
    const studies = [...new Set(instances.map((f) => f.studyInstanceUID).filter(Boolean))];
    // Without the search (a key with the write scope only, say), everything is sent: the Store judges duplicates.
    const held = await existingInstances(studies, opts).catch((err: unknown) => {
      if (!(err instanceof Error)) throw err;
      progress.notice(`cannot tell what the archive holds (${describeError(err)}): sending every instance`);
      return new Set<string>();
    });
    toSend = instances.filter((f) => !f.sopInstanceUID || !held.has(key(f.seriesInstanceUID, f.sopInstanceUID)));
    skipped = instances.length - toSend.length;
    progress.advance(skipped, instances.reduce((n, f) => n + f.size, 0) - toSend.reduce((n, f) => n + f.size, 0));
  }

  const out: Outcomes = { stored: 0, requests: 0, bytesSent: 0, failed: [], warnings: [] };
  const boundary = newBoundary();
  // A file whose UIDs could not be read goes alone, so that the Store's answer is surely its own.
  const unidentified = toSend.filter((f) => !f.sopInstanceUID);
  const packing = packRequests(
    toSend.filter((f) => f.sopInstanceUID),
    opts.maxRequestBytes,
    boundary,
  );
  const alone = packRequests(unidentified, opts.maxRequestBytes, boundary, 1);
  const batches = [...packing.batches, ...alone.batches];

  // Instances above the limit take the upload path, after the Store requests.
  const uploads: InstanceFile[] = [...packing.tooLarge, ...alone.tooLarge];
  // A request the archive finds too large (its limit below --max-request-bytes) is split in two and
  // each half sent again; an instance refused alone takes the upload path too.
  const send = async (files: readonly InstanceFile[]): Promise<void> => {
    try {
      const body = await storeBody(files, boundary);
      out.requests++;
      out.bytesSent += body.length;
      const res = await fetchWithRetry(opts, `${opts.baseUrl}/studies`, () => ({
        method: 'POST',
        headers: { 'Content-Type': storeContentType(boundary), Accept: DICOM_JSON },
        body,
      }));
      if (res.status === 413) {
        await res.body?.cancel();
        if (files.length === 1) return void uploads.push(files[0]!);
        const half = Math.ceil(files.length / 2);
        await send(files.slice(0, half));
        await send(files.slice(half));
        return;
      }
      await readStoreResponse(res, files, out, progress);
    } catch (err) {
      const reason = `not stored: ${describeError(err)}`;
      for (const f of files) out.failed.push({ path: f.path, sopInstanceUID: f.sopInstanceUID, reason });
    }
  };
  await inPool(batches, opts.concurrency, async (files) => {
    await send(files);
    // What goes to the upload path is counted as its parts go.
    const done = files.filter((f) => !uploads.includes(f));
    progress.advance(
      done.length,
      done.reduce((n, f) => n + f.size, 0),
    );
  });
  // PS3.2 J.4.2 A700 (Refused: Out of Resources): the archive ran out of time and asks for the
  // instances again; they are sent once more, in requests of their own.
  const refused = out.failed.filter((f) => f.failureReason === FailureReason.OutOfMemory);
  if (refused.length > 0) {
    progress.notice(`${refused.length} instance(s) refused for lack of resources (A700): sending them again`);
    const again = new Set(refused.map((f) => f.path));
    out.failed.splice(0, out.failed.length, ...out.failed.filter((f) => !again.has(f.path)));
    const retry = packRequests(
      toSend.filter((f) => again.has(f.path)),
      opts.maxRequestBytes,
      boundary,
    );
    await inPool(retry.batches, opts.concurrency, send);
  }
  // One instance at a time, its parts `partConcurrency` at a time.
  for (const file of uploads) await storeByUpload(file, opts, out);
  progress.end();
  return {
    stored: out.stored,
    skipped,
    failed: out.failed,
    warnings: out.warnings,
    notes,
    requests: out.requests,
    bytesSent: out.bytesSent,
    seconds: (now() - start) / 1000,
  };
}
