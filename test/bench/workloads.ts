/**
 * The workloads of `npm run bench`, run with the same client code (fetch, same concurrency) against
 * every DICOMweb server compared: STOW-RS (PS3.18 10.5), QIDO-RS (10.6) and WADO-RS (10.4).
 * Each throws on an answer other than the success the standard names, so a figure is never the
 * speed of an error.
 */
import { newUid } from '../../lambdas/dicom/uid';
import { makeInstance, type InstanceOptions } from '../support/dicom-factory';
import { percentile, pool, secondsSince, sendStow, stowAll, stowRequests, withGet, type Get } from './common';

/** A measured run: `operations` done in `seconds`, `bytes` moved, and each operation's latency. */
export interface Measurement {
  readonly operations: number;
  readonly seconds: number;
  readonly bytes: number;
  /** Milliseconds, sorted. */
  readonly latencies: readonly number[];
  /** QIDO-RS: the results of every query together, to check that two servers answered alike. */
  readonly matches?: number;
}

export const perSecond = (m: Measurement) => m.operations / m.seconds;
export const mbPerSecond = (m: Measurement) => m.bytes / (1024 * 1024) / m.seconds;
export const p50 = (m: Measurement) => percentile(m.latencies, 50);
export const p95 = (m: Measurement) => percentile(m.latencies, 95);

/** Runs `operation` over `items`, `concurrency` at once, timing each; it answers the bytes it moved. */
export async function measure<T>(items: readonly T[], concurrency: number, operation: (item: T) => Promise<number>): Promise<Measurement> {
  const latencies: number[] = [];
  let bytes = 0;
  const t0 = performance.now();
  await pool(items, concurrency, async (item) => {
    const started = performance.now();
    // Awaited first: `bytes += await ...` would read `bytes` before the await and lose the other workers' additions.
    const moved = await operation(item);
    bytes += moved;
    latencies.push(performance.now() - started);
  });
  return { operations: items.length, seconds: secondsSince(t0), bytes, latencies: latencies.sort((a, b) => a - b) };
}

// ---------------------------------------------------------------------------------------------
// STOW-RS corpus: instances of one size in series of `perSeries`, one series per study.

export interface StoredInstance {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
}

export interface Corpus {
  readonly files: readonly Uint8Array[];
  readonly instances: readonly StoredInstance[];
  readonly bytes: number;
}

export function stowCorpus(
  count: number,
  approximateBytes: number,
  perSeries = 20,
  patientID = `STOW-${approximateBytes}`,
  /** e.g. { transferSyntaxUID: JPEGBaseline8Bit, numberOfFrames: 8 }: encapsulated instances of that many frames */
  more: Pick<InstanceOptions, 'transferSyntaxUID' | 'numberOfFrames' | 'offsetTable'> = {},
): Corpus {
  const files: Uint8Array[] = [];
  const instances: StoredInstance[] = [];
  let study = { studyInstanceUID: '', seriesInstanceUID: '' };
  for (let i = 0; i < count; i++) {
    if (i % perSeries === 0) study = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
    const sopInstanceUID = newUid();
    files.push(
      makeInstance({
        ...study,
        sopInstanceUID,
        patientID,
        patientName: 'Bench^Stow',
        instanceNumber: (i % perSeries) + 1,
        approximateBytes,
        ...more,
      }),
    );
    instances.push({ ...study, sopInstanceUID });
  }
  return { files, instances, bytes: files.reduce((n, f) => n + f.byteLength, 0) };
}

/**
 * Stores the corpus with `perRequest` instances per request (the same for every server: as many as
 * the archive's request limit admits, PS3.18 10.5); one operation is one instance.
 */
export async function stowWorkload(url: string, corpus: Corpus, perRequest: number, concurrency: number): Promise<Measurement> {
  const requests = stowRequests(corpus.files, perRequest);
  const t0 = performance.now();
  await sendStow(url, requests, concurrency);
  return { operations: corpus.files.length, seconds: secondsSince(t0), bytes: corpus.bytes, latencies: [] };
}

// ---------------------------------------------------------------------------------------------
// QIDO-RS corpus: `studies` studies of 2 series x 5 small instances; two studies per patient, study
// dates spread over ten years, family names from a list (so a wildcard or fuzzy name matches ~1/50).

const FAMILY_NAMES = [
  'Adams',
  'Baker',
  'Carter',
  'Dalton',
  'Evans',
  'Fisher',
  'Garcia',
  'Hughes',
  'Irwin',
  'Jensen',
  'Keller',
  'Lopez',
  'Morgan',
  'Nolan',
  'Owens',
  'Parker',
  'Quinn',
  'Reyes',
  'Smith',
  'Turner',
  'Ulrich',
  'Vargas',
  'Walker',
  'Xavier',
  'Young',
  'Zimmer',
  'Abbott',
  'Bishop',
  'Conway',
  'Dixon',
  'Ellis',
  'Foster',
  'Gibson',
  'Harper',
  'Ingram',
  'Jordan',
  'Knight',
  'Lawson',
  'Mason',
  'Newton',
  'Oliver',
  'Porter',
  'Ramsey',
  'Sutton',
  'Thorne',
  'Upton',
  'Vaughn',
  'Warren',
  'Yates',
  'Zhang',
];
export const SERIES_PER_STUDY = 2;
export const INSTANCES_PER_SERIES = 5;
const FIRST_DAY = Date.UTC(2015, 0, 1);

function qidoStudy(i: number) {
  const patient = Math.floor(i / 2);
  const day = new Date(FIRST_DAY + (i % 3650) * 86_400_000);
  return {
    patientID: `QIDO-${patient}`,
    patientName: `${FAMILY_NAMES[patient % FAMILY_NAMES.length]}^Given${patient}`,
    studyDate: day.toISOString().slice(0, 10).replaceAll('-', ''),
  };
}

/** The Part 10 files of studies [from, to) of the QIDO corpus, generated on demand (the full corpus is 100,000). */
export function qidoStudies(from: number, to: number): Uint8Array[] {
  const files: Uint8Array[] = [];
  for (let i = from; i < to; i++) {
    const attributes = { ...qidoStudy(i), studyInstanceUID: newUid(), accessionNumber: `A${i}` };
    for (let s = 0; s < SERIES_PER_STUDY; s++) {
      const seriesInstanceUID = newUid();
      for (let n = 0; n < INSTANCES_PER_SERIES; n++) {
        files.push(makeInstance({ ...attributes, seriesInstanceUID, seriesNumber: s + 1, instanceNumber: n + 1, rows: 16, columns: 16 }));
      }
    }
  }
  return files;
}

/**
 * Loads the QIDO corpus into a server, `studiesPerRequest` studies (10 instances each) per STOW
 * request: a request the archive's Store function finishes well within its 18 s timeout on a loaded
 * machine (beyond it, the rest of a request is answered A700, to be stored again).
 */
export async function loadQidoCorpus(url: string, studies: number, concurrency: number, studiesPerRequest = 10): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(studies / studiesPerRequest) }, (_, c) => c * studiesPerRequest);
  await pool(chunks, concurrency, async (from) => {
    const files = qidoStudies(from, Math.min(studies, from + studiesPerRequest));
    await stowAll(url, files, files.length, 1);
  });
}

export type QidoLevel = 'studies' | 'series' | 'instances';
export type QidoKey = 'PatientID' | 'date range' | 'wildcard name' | 'fuzzy name';
export const QIDO_LEVELS: readonly QidoLevel[] = ['studies', 'series', 'instances'];
export const QIDO_KEYS: readonly QidoKey[] = ['PatientID', 'date range', 'wildcard name', 'fuzzy name'];

/** The server a query is for: Orthanc has no fuzzy matching of person names (PS3.18 8.3.4.1). */
export type QidoServer = 'archive' | 'orthanc';

/**
 * The i-th query of a kind, over a corpus of `studies` studies; every query asks for at most 100
 * matches (PS3.18 8.3.4.4), so a broad key costs the same response size on every server.
 */
export function qidoQuery(level: QidoLevel, key: QidoKey, i: number, studies: number, server: QidoServer = 'archive'): string {
  const study = qidoStudy((i * 7919) % studies);
  const family = study.patientName.split('^')[0]!;
  const month = study.studyDate.slice(0, 6);
  const match: Record<QidoKey, string> = {
    PatientID: `PatientID=${study.patientID}`,
    'date range': `StudyDate=${month}01-${month}28`,
    'wildcard name': `PatientName=${family.slice(0, 3)}*`,
    // PS3.18 8.3.4.1: fuzzy matching of person names, lower case on purpose. Orthanc ignores
    // fuzzymatching; its own matching of names is case-insensitive (CaseSensitivePN, false by default),
    // so the lower-case family name as a prefix finds there what fuzzy matching finds here.
    'fuzzy name': server === 'orthanc' ? `PatientName=${family.toLowerCase()}*` : `PatientName=${family.toLowerCase()}&fuzzymatching=true`,
  };
  return `/${level}?${match[key]}&limit=100`;
}

export interface QidoRun {
  readonly level: QidoLevel;
  readonly key: QidoKey;
  readonly count: number;
  readonly studies: number;
  readonly concurrency: number;
  /** The first query's index (warm-ups ask for other values than the measured queries). */
  readonly first?: number;
  readonly server?: QidoServer;
}

/**
 * Runs `count` queries of one kind, the `first`-th and on; 200 and 204 (no match) are both answers.
 * `matches` counts the results, so that two servers' runs can be checked to be like for like.
 */
export async function qidoWorkload(url: string, run: QidoRun): Promise<Measurement> {
  const indices = Array.from({ length: run.count }, (_, i) => (run.first ?? 0) + i);
  let matches = 0;
  const m = await measure(indices, run.concurrency, async (i) => {
    const r = await fetch(`${url}${qidoQuery(run.level, run.key, i, run.studies, run.server)}`, {
      headers: { Accept: 'application/dicom+json' },
    });
    const body = await r.arrayBuffer();
    if (r.status !== 200 && r.status !== 204) throw new Error(`QIDO ${run.level} ${run.key} answered ${r.status}`);
    if (r.status === 200) matches += (JSON.parse(Buffer.from(body).toString('utf8')) as unknown[]).length;
    return body.byteLength;
  });
  return { ...m, matches };
}

// ---------------------------------------------------------------------------------------------
// WADO-RS: instances as stored, series, and frames (PS3.18 10.4.1).

const AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';
const FRAMES_AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

/** One retrieval, read to its end and counted (withGet); throws unless answered 200. */
async function retrieve(get: Get, url: string, accept: string): Promise<number> {
  const { status, bytes } = await get(url, accept);
  if (status !== 200) throw new Error(`WADO ${new URL(url).pathname.split('/').slice(-2, -1)} answered ${status}`);
  return bytes;
}

const seriesPath = (i: StoredInstance) => `/studies/${i.studyInstanceUID}/series/${i.seriesInstanceUID}`;

export function wadoInstances(url: string, instances: readonly StoredInstance[], concurrency: number): Promise<Measurement> {
  return withGet(concurrency, (get) =>
    measure(instances, concurrency, (i) => retrieve(get, `${url}${seriesPath(i)}/instances/${i.sopInstanceUID}`, AS_STORED)),
  );
}

/** One operation per series; `instancesPerSeries` converts it into instances/s. */
export function wadoSeries(url: string, instances: readonly StoredInstance[], concurrency: number): Promise<Measurement> {
  const series = [...new Map(instances.map((i) => [i.seriesInstanceUID, i])).values()];
  return withGet(concurrency, (get) => measure(series, concurrency, (i) => retrieve(get, `${url}${seriesPath(i)}`, AS_STORED)));
}

/**
 * The metadata (PS3.18 10.4.1.1.2, application/dicom+json) of each instance; every answer parsed
 * and checked to hold that one instance, so both servers are held to the same answer.
 */
export function wadoInstanceMetadata(url: string, instances: readonly StoredInstance[], concurrency: number): Promise<Measurement> {
  return measure(instances, concurrency, (i) => metadata(`${url}${seriesPath(i)}/instances/${i.sopInstanceUID}/metadata`, 1));
}

/**
 * The metadata of each series, what a viewer asks when it opens one (one operation per series, each
 * of `instancesPerSeries` instances, checked as wadoInstanceMetadata's), `passes` times over.
 */
export function wadoSeriesMetadata(
  url: string,
  instances: readonly StoredInstance[],
  concurrency: number,
  instancesPerSeries: number,
  passes = 1,
): Promise<Measurement> {
  const series = [...new Map(instances.map((i) => [i.seriesInstanceUID, i])).values()];
  const asked = Array.from({ length: passes }, () => series).flat();
  return measure(asked, concurrency, (i) => metadata(`${url}${seriesPath(i)}/metadata`, instancesPerSeries));
}

async function metadata(url: string, instances: number): Promise<number> {
  const r = await fetch(url, { headers: { Accept: 'application/dicom+json' } });
  const body = await r.text();
  if (r.status !== 200) throw new Error(`WADO metadata answered ${r.status}`);
  const parsed: unknown = JSON.parse(body);
  if (!Array.isArray(parsed) || parsed.length !== instances)
    throw new Error(`WADO metadata answered ${String((parsed as unknown[]).length)} instances, not ${instances}`);
  return Buffer.byteLength(body);
}

export function wadoFrames(url: string, instances: readonly StoredInstance[], concurrency: number, frame = 1): Promise<Measurement> {
  return withGet(concurrency, (get) =>
    measure(instances, concurrency, (i) =>
      retrieve(get, `${url}${seriesPath(i)}/instances/${i.sopInstanceUID}/frames/${frame}`, FRAMES_AS_STORED),
    ),
  );
}
