/**
 * The work of `npm run retrieve`: a study's series listed with QIDO-RS (PS3.18 10.6), then retrieved
 * one by one with WADO-RS (PS3.18 10.4: multipart/related; type="application/dicom";
 * transfer-syntax=*, so each instance comes back as stored), each part streamed to
 * DIR/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm as it arrives. A series above the archive's
 * response limit (413) is retrieved instance by instance as the single part application/dicom
 * (PS3.18 10.4.4), whose answer above the limit is a 303 to the object itself, followed without the
 * credentials (docs/large-instances.md).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseMediaType } from '../../lambdas/dicom/multipart';
import { asciiDecoder, scanPart10Header } from '../../lambdas/dicom/part10-scan';
import { Tag, tagNumber } from '../../lambdas/dicom/tags';
import { isValidUid } from '../../lambdas/dicom/uid';
import { readStatusReport } from '../../lambdas/send/send-client';
import type { BulkProgress } from './bulk-progress';
import { writeMultipartFiles, type FilePart } from './multipart-files';

const DICOM_JSON = 'application/dicom+json';
const ACCEPT_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const ACCEPT_ONE_AS_STORED = 'application/dicom; transfer-syntax=*';
const SEARCH_PAGE = 1000;

export interface RetrieveRunOptions {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID?: string;
  readonly outDir: string;
  readonly progress: BulkProgress;
  /** A fetch without credentials, for the URL a redirect names (default: `fetch` itself). */
  readonly plainFetch?: typeof fetch;
}

export interface RetrieveSummary {
  readonly written: number;
  /** Already in DIR: not written again. */
  readonly present: number;
  readonly bytes: number;
  readonly failures: readonly string[];
}

/** A failure of the retrieve, with what the archive said. */
export class RetrieveError extends Error {}

type Json = Record<string, { Value?: unknown[] }>;

async function failure(what: string, res: Response): Promise<RetrieveError> {
  const report = readStatusReport(await res.text());
  return new RetrieveError(`${what}: HTTP ${res.status}${report?.detail ? ` (${report.detail})` : ''}`);
}

/** Every value of `tag` in a paged QIDO-RS search at `resource` (a path below the service root). */
async function searchUids(opts: RetrieveRunOptions, resource: string, tag: string): Promise<string[]> {
  const uids: string[] = [];
  for (let offset = 0; ;) {
    const res = await opts.fetch(`${opts.baseUrl}${resource}?includefield=${tag}&limit=${SEARCH_PAGE}&offset=${offset}`, {
      headers: { Accept: DICOM_JSON },
    });
    if (res.status === 204) return uids;
    if (!res.ok) throw await failure(`search ${resource}`, res);
    const items = (await res.json()) as Json[];
    if (items.length === 0) return uids;
    for (const item of items) uids.push(String(item[tag]?.Value?.[0] ?? ''));
    offset += items.length;
  }
}

/** The SOP Instance UID in a Part 10 file's header, '' when it cannot be read. */
export function sopInstanceUIDOf(part10: Uint8Array): string {
  const header = scanPart10Header(part10, tagNumber(Tag.SOPInstanceUID) + 1);
  const at = header?.elements.get(tagNumber(Tag.SOPInstanceUID));
  if (!at) return '';
  return asciiDecoder.decode(part10.subarray(at.valueStart, at.valueStart + at.length)).replace(/[\0 ]+$/, '');
}

/** Where an instance goes in DIR. The UIDs are checked first: a UID is digits and dots, never a path. */
export function instancePath(outDir: string, study: string, series: string, sop: string): string {
  for (const uid of [study, series, sop]) if (!isValidUid(uid)) throw new RetrieveError(`not a valid UID: ${JSON.stringify(uid)}`);
  return path.join(outDir, study, series, `${sop}.dcm`);
}

const isPresent = (file: string) =>
  stat(file).then(
    (s) => s.isFile() && s.size > 0,
    () => false,
  );

/** Bytes of each part kept to read its header from; a longer header is read back from its file. */
const HEAD_BYTES = 64 * 1024;
const HEADER_MAX_BYTES = 16 * 1024 * 1024;

async function sopInstanceUIDOfPart(part: FilePart): Promise<string> {
  const uid = sopInstanceUIDOf(part.head);
  if (uid || part.size <= part.head.length) return uid;
  const handle = await open(part.path, 'r');
  try {
    const length = Math.min(part.size, HEADER_MAX_BYTES);
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
    return sopInstanceUIDOf(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * Writes the parts of a WADO-RS multipart body, read chunk by chunk, to DIR/<study>/<series>/: each
 * part streamed to a temporary file (./multipart-files), then renamed after the SOP Instance UID of
 * its header, so a present file is whole. Returns what was written and what was already there.
 */
export async function writeParts(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  target: { readonly outDir: string; readonly study: string; readonly series: string },
  progress: BulkProgress,
): Promise<{ written: number; present: number; bytes: number }> {
  let written = 0;
  let present = 0;
  let bytes = 0;
  const folder = path.dirname(instancePath(target.outDir, target.study, target.series, '1'));
  await mkdir(folder, { recursive: true });
  const temp = (i: number) => path.join(folder, `.retrieve-${process.pid}-${i}.partial`);
  for await (const part of writeMultipartFiles(body, boundary, temp, HEAD_BYTES)) {
    try {
      const sop = await sopInstanceUIDOfPart(part);
      if (!sop) throw new RetrieveError(`a part of series ${target.series} is not a readable Part 10 instance`);
      const file = instancePath(target.outDir, target.study, target.series, sop);
      // Instances already there were counted before the request.
      if (await isPresent(file)) present++;
      else {
        await rename(part.path, file);
        written++;
        bytes += part.size;
        progress.advance(1, part.size);
      }
    } finally {
      await rm(part.path, { force: true });
    }
  }
  return { written, present, bytes };
}

/**
 * One instance as the single part application/dicom, as stored, streamed to its file (a temporary
 * name, then renamed). A 303 See Other (the instance is above the response limit) is followed to the
 * object's URL without the credentials: the URL is signed, and S3 refuses a second credential.
 */
export async function retrieveInstanceFile(
  opts: RetrieveRunOptions,
  uids: { readonly study: string; readonly series: string; readonly sop: string },
): Promise<number> {
  const file = instancePath(opts.outDir, uids.study, uids.series, uids.sop);
  const url = `${opts.baseUrl}/studies/${encodeURIComponent(uids.study)}/series/${encodeURIComponent(uids.series)}/instances/${encodeURIComponent(uids.sop)}`;
  let res = await opts.fetch(url, { headers: { Accept: ACCEPT_ONE_AS_STORED }, redirect: 'manual' });
  const location = res.headers.get('location');
  if ([301, 302, 303, 307, 308].includes(res.status) && location) {
    await res.body?.cancel();
    res = await (opts.plainFetch ?? opts.fetch)(new URL(location, url).href);
  }
  if (res.status !== 200 || !res.body) throw await failure(`retrieve instance ${uids.sop}`, res);
  const media = parseMediaType(res.headers.get('content-type') ?? '');
  if (media.mediaType === 'multipart/related' && media.params.boundary) {
    // An archive that answers multipart/related anyway (single part is optional): its one part.
    const done = await writeParts(
      res.body,
      media.params.boundary,
      { outDir: opts.outDir, study: uids.study, series: uids.series },
      opts.progress,
    );
    return done.bytes;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.retrieve-${process.pid}-${uids.sop}.partial`);
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      opts.progress.advance(0, chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), counted, createWriteStream(temp));
    const declared = Number(res.headers.get('content-length') ?? size);
    if (declared !== size) throw new RetrieveError(`retrieve instance ${uids.sop}: ${size} of ${declared} bytes arrived`);
    if ((await sopInstanceUIDOfPart({ path: temp, headers: {}, head: Buffer.alloc(0), size })) !== uids.sop) {
      throw new RetrieveError(`retrieve instance ${uids.sop}: the file received is not that instance`);
    }
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
  opts.progress.advance(1, 0);
  return size;
}

/** Retrieves the study (or one series of it) into DIR, series by series, skipping instances already there. */
export async function retrieveStudy(opts: RetrieveRunOptions): Promise<RetrieveSummary> {
  const study = opts.studyInstanceUID;
  const studyPath = `/studies/${encodeURIComponent(study)}`;
  const seriesList = opts.seriesInstanceUID
    ? [opts.seriesInstanceUID]
    : await searchUids(opts, `${studyPath}/series`, Tag.SeriesInstanceUID);
  if (seriesList.length === 0) throw new RetrieveError(`the archive holds no series of study ${study}`);
  let written = 0;
  let present = 0;
  let bytes = 0;
  const failures: string[] = [];
  for (const series of seriesList) {
    try {
      const seriesPath = `${studyPath}/series/${encodeURIComponent(series)}`;
      const sops = await searchUids(opts, `${seriesPath}/instances`, Tag.SOPInstanceUID);
      const missing: string[] = [];
      for (const sop of sops) if (!(await isPresent(instancePath(opts.outDir, study, series, sop)))) missing.push(sop);
      opts.progress.addTotal(sops.length, 0);
      opts.progress.advance(sops.length - missing.length, 0);
      present += sops.length - missing.length;
      if (missing.length === 0) continue;
      const res = await opts.fetch(`${opts.baseUrl}${seriesPath}`, { headers: { Accept: ACCEPT_AS_STORED } });
      if (res.status === 413) {
        // Above the response limit: instance by instance, each as the single part application/dicom.
        await res.body?.cancel();
        for (const sop of missing) {
          bytes += await retrieveInstanceFile(opts, { study, series, sop });
          written++;
        }
        continue;
      }
      if (res.status !== 200 || !res.body) throw await failure(`retrieve series ${series}`, res);
      const boundary = parseMediaType(res.headers.get('content-type') ?? '').params.boundary;
      if (!boundary) throw new RetrieveError(`retrieve series ${series}: the response is not multipart`);
      const done = await writeParts(res.body, boundary, { outDir: opts.outDir, study, series }, opts.progress);
      written += done.written;
      bytes += done.bytes;
    } catch (err) {
      // Any fault of one series (the archive's answer, the network, the disk) is reported; the others go on.
      if (!(err instanceof Error)) throw err;
      const message = `series ${series}: ${err.message}`;
      failures.push(message);
      opts.progress.notice(message);
    }
  }
  opts.progress.end();
  return { written, present, bytes, failures };
}
