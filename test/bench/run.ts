/**
 * `npm run bench`: the embedded archive beside Orthanc with its DICOMweb plugin, the same workload
 * sent by the same client (fetch, same concurrency) to both, then the archive's cloud cost drivers.
 *   npm run bench                          # --scale small: a few minutes
 *   npm run bench -- --scale full          # 10,000 studies / 100,000 instances for QIDO-RS
 *   npm run bench -- --sections stow,wado --no-docs
 *   npm run bench -- --sections rendered,cost --no-docs   # rendered and thumbnail, bundle sizes and cold init
 *   npm run bench -- --sections calls --no-docs   # S3 and DynamoDB calls per instance alone (seconds)
 *   npm run bench -- --sections large             # 1 GB + 300 x 0.5 MB through npm run store / retrieve (its own docs block)
 *   npm run bench -- --studies 2000 --send-instances 1000 --send-bytes 40000 --concurrency 8
 *   BENCH_CPU_PROF=/tmp/prof npm run bench -- --sections send --no-docs   # and a CPU profile of the archive
 * Prints one side-by-side table with ratios and the cost table, and writes both into
 * docs/performance.md (between its generated markers) when every section ran.
 * Orthanc is installed with apt-get when missing and the bench runs as root; otherwise its column
 * is empty. Targets live here, never in timed tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lambdas/config';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { MAX_BUNDLE_BYTES } from '../../lib/constructs/bundling';
import { idleShare, instancesPerRequest, LIVE_SAMPLE_MS, machineTicks, mb } from './common';
import { measureAwsCalls, measureBundles, measureDimseStore, measureHandlerCosts, measureModelCalls, type CallMemory } from './cost';
import { MEASURED_FILE, writeMeasuredFigures } from './cost-figures';
import type { MeasuredCalls } from './cost-measured';
import {
  comparisonMarkdown,
  comparisonText,
  costMarkdown,
  costText,
  figure,
  LARGE_MARKERS,
  replaceGenerated,
  type ComparisonRow,
  type CostRow,
} from './report';
import { benchLarge } from './large';
import { RENDERED_IMAGES, RENDERED_KINDS, RENDERED_RESOURCES, renderedCorpus, renderedWorkload, THUMBNAIL_SIDE } from './rendered';
import { measureRenderColdStart } from './render-cold';
import { benchOrthancForward, benchSendRs, sendCorpus } from './send-rs';
import {
  ensureOrthanc,
  peakRssBytes,
  processCpuSeconds,
  PROJECT_ROOT,
  startArchiveProcess,
  startOrthanc,
  type ArchiveServer,
  type DicomwebServer,
  type OrthancServer,
} from './servers';
import {
  INSTANCES_PER_SERIES,
  SERIES_PER_STUDY,
  QIDO_KEYS,
  QIDO_LEVELS,
  loadQidoCorpus,
  mbPerSecond,
  p50,
  p95,
  perSecond,
  qidoWorkload,
  type QidoServer,
  stowCorpus,
  stowWorkload,
  wadoFrames,
  wadoInstanceMetadata,
  wadoSeriesMetadata,
  wadoInstances,
  wadoSeries,
  type Corpus,
  type Measurement,
  type StoredInstance,
} from './workloads';

/**
 * Corpus sizes. STOW-RS rounds of 400 x ~40 KB and 100 x ~0.5 MB (until 2026-12-07 23:00 UTC) lasted
 * 0.15-0.5 s once the client stopped slowing both servers (common.ts sendStow): a few requests in
 * flight at the start and the end of a round weighed in its figure, and 100 instances made 5 series
 * for the WADO-RS series row.
 */
const SCALES = {
  small: { stowSmall: 1000, stowLarge: 300, qidoStudies: 500, queries: 40, send: 200, sendLarge: 100, cpuInstances: 100, rendered: 60 },
  full: {
    stowSmall: 2000,
    stowLarge: 400,
    qidoStudies: 10_000,
    queries: 200,
    send: 1000,
    sendLarge: 250,
    cpuInstances: 200,
    rendered: 300,
  },
} as const;
const SECTIONS = ['stow', 'wado', 'qido', 'rendered', 'send', 'cost', 'calls', 'memory', 'large'] as const;
/**
 * Instances of each kind rendered on each server before the measured ones (both(): warm-up), for the
 * same reason as WADO_WARM_UP_RETRIEVALS: an ultrasound thumbnail cost the archive 5.3, 3.8, 3.8, 3.7 ms
 * of CPU in passes of 60, then 2.8-3.0 from the fifth (236 -> 400-458 images/s). The images of a
 * thumbnail are cached, so the warm-up is of instances of their own, not passes over the same ones.
 */
const RENDERED_WARM_UP_INSTANCES = 240;
/**
 * Retrievals of a WADO-RS workload run on each server before the measured pass (both(): warm-up), in
 * passes over the same instances (3 to 15). V8 makes optimized code of a function after enough calls,
 * and a retrieval calls most of its functions once: 40 KB instances retrieved in passes of 400 cost
 * the archive 1.5, 1.3, 1.15, 0.98 then 0.8-0.9 ms of CPU each, settling at 0.6-0.9 after about
 * 2,000 (1,150-1,730 instances/s). Frames of a JPEG instance, a path of their own, ran at 572, 860,
 * 1,256 then 1,352 frames/s in rounds of 300. Orthanc's native code has no such warm-up; the passes
 * cost it nothing but time.
 */
const WADO_WARM_UP_RETRIEVALS = 1_500;
/**
 * Instances each server stores before a STOW-RS row, in requests of the row's size (one request until
 * 2026-12-07 08:20 UTC), for the same reason: ~40 KB instances in rounds of 400 cost the archive 3.2,
 * 2.7, 2.5 then 2.1 ms of CPU each (448 -> 700 instances/s); Orthanc went from 800 to 1,170.
 */
const STOW_WARM_UP_INSTANCES = 1_000;
/**
 * Measured rounds of the STOW-RS and WADO-RS rows, the servers in turns, each figure its median round
 * (both(); since 2026-12-07 15:10 UTC, one round before), and of the rendered rows (since 21:10 UTC:
 * one round of 60 images a server, whose ratio swung from 0.49x to 1.35x run to run).
 */
const MEASURED_ROUNDS = 3;
const wadoWarmUpPasses = (instances: number) => Math.min(15, Math.max(3, Math.ceil(WADO_WARM_UP_RETRIEVALS / instances)));
/** Instances per workload of the AWS calls rows (note [r]): the counts per instance do not depend on it. */
const AWS_CALLS_INSTANCES = 20;
/** Queries of each kind run on each server before its measured ones (both(): warm-up). */
const QIDO_WARM_UP_QUERIES = 10;
/** Instances of the Send (and of Orthanc's forwarding) run before the measured one. */
const SEND_WARM_UP_INSTANCES = 20;
/**
 * The DIMSE gateway's sizing (docs/dimse-gateway.md): storing a data set grows the process by about this
 * many times its size (the P-DATA fragments, the Part 10 file built from them, garbage not yet collected).
 */
const DIMSE_SIZING = 2.5;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'small' },
    concurrency: { type: 'string', default: '4' },
    sections: { type: 'string', default: SECTIONS.join(',') },
    studies: { type: 'string' },
    'send-instances': { type: 'string' },
    'send-bytes': { type: 'string', default: '40000' },
    'no-docs': { type: 'boolean', default: false },
  },
});
if (values.scale !== 'small' && values.scale !== 'full') throw new Error('--scale is small or full');
const scale = {
  ...SCALES[values.scale],
  ...(values.studies ? { qidoStudies: Number(values.studies) } : {}),
  ...(values['send-instances'] ? { send: Number(values['send-instances']) } : {}),
};
const SEND_BYTES = Number(values['send-bytes']);
/** The second SEND-RS row: instances of the size of a CT or MR image (issue 22's target row). */
const SEND_LARGE_BYTES = 500_000;
const CONCURRENCY = Number(values.concurrency);
const sections = new Set(values.sections!.split(',').map((s) => s.trim()) as Section[]);
for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(',')}`);

/** The archive's STOW request limit (lambdas/config.ts default): both servers get requests of this size. */
const MAX_REQUEST_BYTES = loadConfig({ BUCKET_NAME: '-', TABLE_NAME: '-' }).maxRequestBytes;
const log = (line: string) => console.log(`[bench] ${line}`);

interface Servers {
  readonly archive: ArchiveServer;
  readonly orthanc?: OrthancServer;
  /** Orthanc receiving SEND-RS (from the archive) and forwarding (from `orthanc`) over its STOW-RS. */
  readonly destination?: OrthancServer;
}

type Measured = Measurement & { readonly cpu: number };

/** A server's measurement, or why it has none (an answer other than success: the figure would mislead). */
type Outcome = Measured | { readonly error: string };
const ok = (o: Outcome | undefined): Measured | undefined => (o && 'operations' in o ? o : undefined);
const errorOf = (o: Outcome | undefined): string | undefined => (o && 'error' in o ? o.error : undefined);

/**
 * The archive, then Orthanc, each measured alone with its process's CPU time around the run. A
 * `warmUp` runs first on each server, neither timed nor counted: a little of the same work on other
 * data, so the figure is that of a server in service (code paths loaded and, for the archive's
 * Node.js process, compiled by the JIT) rather than of its first requests.
 *
 * With `rounds` above one, both servers are warmed up, then measured in turns (archive, Orthanc,
 * archive, ...), `run` told the round, and each server's figure is its median round (by operations
 * per second). The machine's speed drifts by tens of percent over seconds (2 shared vCPUs): turns put
 * both servers in the same stretches of it, and a median drops the round a hiccup hit.
 */
async function both(
  servers: Servers,
  what: string,
  run: (server: DicomwebServer, round: number) => Promise<Measurement>,
  warmUp?: (server: DicomwebServer) => Promise<unknown>,
  rounds = 1,
): Promise<{ archive?: Outcome; orthanc?: Outcome }> {
  const attempt = async <T>(server: DicomwebServer, step: string, fn: () => Promise<T>): Promise<T | { error: string }> => {
    log(`${what}: ${server.name}${step}`);
    try {
      return await fn();
    } catch (error) {
      // fetch's "fetch failed" says nothing by itself: its cause (a socket error) does.
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      const message = (error instanceof Error ? error.message : String(error)) + cause;
      log(`${what}: ${server.name} failed: ${message}`);
      const recent = server.recentErrors?.().trim();
      if (recent) log(`${server.name}'s last error output:\n${recent.split('\n').slice(-15).join('\n')}`);
      return { error: message.slice(0, 80) };
    }
  };
  const measure = async (server: DicomwebServer, round: number): Promise<Outcome> => {
    // Dirty pages written back first (sync(1)): a round does not share the disk with the writeback of
    // the other server's earlier rounds (Orthanc does not fsync its files; the kernel writes them
    // back up to 30 s later, while the archive's fdatasyncs wait behind them).
    spawnSync('sync');
    const cpu0 = processCpuSeconds(server.pid);
    const [client0, machine0] = [process.cpuUsage(), machineTicks()];
    const m = await run(server, round);
    const cpu = processCpuSeconds(server.pid) - cpu0;
    // The client's CPU and the machine's idle share beside the server's: the client shares its cores.
    const [client, machine] = [process.cpuUsage(client0), machineTicks()];
    const perOperation = (seconds: number) => `${figure((seconds * 1000) / m.operations)} ms`;
    log(
      `${what}: ${server.name} ${figure(perSecond(m))}/s, CPU per operation: server ${perOperation(cpu)}, ` +
        `client ${perOperation((client.user + client.system) / 1e6)}; machine idle ${figure(idleShare(machine0, machine) * 100)} %`,
    );
    return { ...m, cpu };
  };
  const list = [servers.archive, ...(servers.orthanc ? [servers.orthanc] : [])];
  // One round: each server warmed up and measured in turn. More: all warmed up, then rounds in turns.
  const results = list.map((): Outcome[] => []);
  if (rounds > 1 && warmUp) {
    for (const [i, server] of list.entries()) {
      const warmed = await attempt(server, ' (warm-up)', async () => void (await warmUp(server)));
      if (warmed) results[i]!.push(warmed);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const [i, server] of list.entries()) {
      const failed = results[i]!.find((o) => 'error' in o);
      const step = rounds > 1 ? ` (round ${round + 1} of ${rounds})` : '';
      const warm = rounds === 1 ? warmUp : undefined;
      results[i]!.push(failed ?? (await attempt(server, step, async () => (await warm?.(server), measure(server, round)))));
    }
  }
  const [archive, orthanc] = results.map(medianRound);
  return { archive, orthanc };
}

/** The median round by throughput (the upper one of an even count), or the first failure. */
function medianRound(outcomes: readonly Outcome[]): Outcome {
  const failed = outcomes.find((o) => 'error' in o);
  if (failed) return failed;
  const sorted = [...(outcomes as Measured[])].sort((a, b) => perSecond(a) - perSecond(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

type Both = Awaited<ReturnType<typeof both>>;

/**
 * `run` on a server whose corpus loaded (`loaded`: both servers' loading); on one whose loading failed,
 * a failure saying so: a run over a corpus that did not load would measure something else.
 */
function ifLoaded(servers: Servers, loaded: Both, corpus: string, run: (server: DicomwebServer, round: number) => Promise<Measurement>) {
  return (server: DicomwebServer, round: number): Promise<Measurement> =>
    errorOf(server === servers.archive ? loaded.archive : loaded.orthanc)
      ? Promise.reject(new Error(`its ${corpus} did not load`))
      : run(server, round);
}

/** A row of one figure of both servers; a failed run shows its error instead. */
function row(measure: string, unit: string, r: Both, value: (m: Measured) => number, more: Partial<ComparisonRow> = {}): ComparisonRow {
  const a = ok(r.archive);
  const o = ok(r.orthanc);
  const failed = { archive: errorOf(r.archive), orthanc: errorOf(r.orthanc) };
  return {
    measure,
    unit,
    archive: a && value(a),
    orthanc: o && value(o),
    better: 'higher',
    ...more,
    detail: { archive: failed.archive ?? more.detail?.archive, orthanc: failed.orthanc ?? more.detail?.orthanc },
  };
}

function throughputRows(label: string, r: Both, unit = 'instances/s', opsPerOperation = 1): ComparisonRow[] {
  return [row(label, unit, r, (m) => perSecond(m) * opsPerOperation), row(`${label}, MB/s`, 'MB/s', r, mbPerSecond)];
}

/** Latencies of a run for a row's detail column. */
function latency(o: Outcome | undefined): string | undefined {
  const m = ok(o);
  return m && `p50 ${figure(p50(m))} / p95 ${figure(p95(m))} ms`;
}

/** The measure of a workload's server CPU row, by which the cost table finds Orthanc's figure. */
const serverCpuMeasure = (label: string) => `${label}, server CPU`;

/** Whole server process CPU per instance (the archive's process holds its storage too). */
function serverCpuRow(label: string, r: Both): ComparisonRow {
  return row(serverCpuMeasure(label), 'ms/instance', r, (m) => (m.cpu * 1000) / m.operations, { better: 'lower', note: '[c]' });
}

async function main(): Promise<void> {
  const started = new Date();
  const rows: ComparisonRow[] = [];
  const costs: CostRow[] = [];
  // What npm run cost prices (docs/cost/measured.json): written when the calls or cost section ran.
  const measured: { calls?: MeasuredCalls; cpuMs?: Record<string, number> } = {};
  // Large instances (issue 25) on an archive of their own, after the shared servers have stopped
  // (benchLarge below).
  if (sections.size === 1 && sections.has('large')) return benchLargeSection();
  const orthancFound = ensureOrthanc(log);
  const installation = typeof orthancFound === 'string' ? undefined : orthancFound;
  if (!installation) log(`Orthanc columns skipped: ${orthancFound}`);

  log(`scale ${values.scale}: ${JSON.stringify(scale)}, concurrency ${CONCURRENCY}`);
  // Retry-After 1 s: the SEND-RS figure includes the polling granularity.
  const archive = await startArchiveProcess({ SEND_RETRY_AFTER_SECONDS: '1' });
  let destination: OrthancServer | undefined;
  let orthanc: OrthancServer | undefined;
  try {
    if (installation) {
      destination = await startOrthanc(installation, { name: 'destination' });
      orthanc = await startOrthanc(installation, { name: 'origin', servers: { destination: destination.url } });
    }
    const servers: Servers = { archive, orthanc, destination };

    // STOW-RS, PS3.18 10.5: as many instances per request as the archive's request limit admits.
    const SMALL_BYTES = 40_000;
    const LARGE_BYTES = 500_000;
    const small = stowCorpus(scale.stowSmall, SMALL_BYTES);
    const large = stowCorpus(scale.stowLarge, LARGE_BYTES);
    /**
     * A STOW-RS measure of both servers, after the warm-up corpus in requests of the same size, in
     * MEASURED_ROUNDS turns, each on a corpus of its own (`corpora`): its throughput rows under
     * `throughput`, its server CPU row under `name` (the cost table's key).
     */
    const stowRows = async (name: string, throughput: string, corpora: readonly Corpus[], warm: Corpus, perRequest: number) => {
      const r = await both(
        servers,
        name,
        (s, round) => stowWorkload(s.url, corpora[round]!, perRequest, CONCURRENCY),
        (s) => stowWorkload(s.url, warm, perRequest, CONCURRENCY),
        corpora.length,
      );
      rows.push(...throughputRows(throughput, r), serverCpuRow(name, r));
    };
    /** `first`, then corpora like it (count and size) for the other measured rounds, each of a patient of its own. */
    const roundCorpora = (first: Corpus, bytes: number, patientID: string): Corpus[] => [
      first,
      ...Array.from({ length: MEASURED_ROUNDS - 1 }, (_, i) => stowCorpus(first.files.length, bytes, 20, `${patientID}-R${i + 2}`)),
    ];
    if (sections.has('stow') || sections.has('wado')) {
      for (const [label, corpus, bytes] of [
        ['small (~40 KB)', small, SMALL_BYTES],
        ['large (~0.5 MB)', large, LARGE_BYTES],
      ] as const) {
        const perRequest = instancesPerRequest(MAX_REQUEST_BYTES, corpus.files);
        // Warm-up: STOW_WARM_UP_INSTANCES of the same size, of a patient of their own. The first round
        // stores `corpus`, which the WADO-RS rows retrieve.
        const warm = stowCorpus(Math.max(perRequest, STOW_WARM_UP_INSTANCES), bytes, 20, 'WARM-UP');
        const rounds = roundCorpora(corpus, bytes, `STOW-${bytes}`);
        await stowRows(`STOW-RS ${label}`, `STOW-RS ${label}, ${perRequest}/request`, rounds, warm, perRequest);
        // One instance per request (a modality's or a router's way), on instances of their own.
        const single = roundCorpora(stowCorpus(corpus.files.length, bytes, 20, `STOW-1-${bytes}`), bytes, `STOW-1-${bytes}`);
        const singleWarm = stowCorpus(STOW_WARM_UP_INSTANCES, bytes, 20, 'WARM-UP-1');
        await stowRows(`STOW-RS ${label}, 1/request`, `STOW-RS ${label}, 1/request`, single, singleWarm, 1);
      }
    }

    // WADO-RS, PS3.18 10.4: instances and frames as stored, and whole series.
    if (sections.has('wado')) {
      // Warm-up: the same retrieval of every instance, wadoWarmUpPasses times, unmeasured, then the
      // measured run: a server's steady state, not its first requests. Both servers get the same
      // warm-up; the objects were just stored, so cached alike.
      const passes = (run: () => Promise<unknown>, instances: number) => async () => {
        for (let i = 0; i < wadoWarmUpPasses(instances); i++) await run();
      };
      const wado = (what: string, workload: typeof wadoInstances, instances: readonly StoredInstance[]) =>
        both(
          servers,
          what,
          (s) => workload(s.url, instances, CONCURRENCY),
          (s) => passes(() => workload(s.url, instances, CONCURRENCY), instances.length)(),
          MEASURED_ROUNDS,
        );
      let r = await wado('WADO-RS instance (small)', wadoInstances, small.instances);
      rows.push(...throughputRows('WADO-RS instance (~40 KB)', r), serverCpuRow('WADO-RS instance (~40 KB)', r));
      r = await wado('WADO-RS instance (large)', wadoInstances, large.instances);
      rows.push(...throughputRows('WADO-RS instance (~0.5 MB)', r), serverCpuRow('WADO-RS instance (~0.5 MB)', r));
      r = await wado('WADO-RS series', wadoSeries, large.instances);
      rows.push(...throughputRows('WADO-RS series (20 x ~0.5 MB)', r, 'instances/s', 20));
      // Metadata, PS3.18 10.4.1.1.2: of each ~40 KB instance, and of each of their 20 series (each
      // series three times over: 20 series are too few requests to time).
      r = await wado('WADO-RS instance metadata', wadoInstanceMetadata, small.instances);
      rows.push(row('WADO-RS metadata, instance', 'instances/s', r, perSecond));
      const seriesMetadata = (url: string, instances: readonly StoredInstance[], concurrency: number) =>
        wadoSeriesMetadata(url, instances, concurrency, 20, 3);
      r = await wado('WADO-RS series metadata', seriesMetadata, small.instances);
      rows.push(row('WADO-RS metadata, series of 20', 'instances/s', r, (m) => perSecond(m) * 20));
      r = await wado('WADO-RS frames', wadoFrames, large.instances);
      rows.push(...throughputRows('WADO-RS frame (~0.5 MB)', r, 'frames/s'));
      // Frames of encapsulated (compressed) Pixel Data, as stored: JPEG Baseline instances of 8 frames of
      // ~64 KB, one fragment each, stored on both servers first (not timed); the 5th. With a Basic Offset
      // Table, and without one (an empty table, as many modalities write multi-frame JPEG), where the
      // archive reads the frame by the offsets its index kept when storing it.
      const jpegFrames = async (what: string, patientID: string, offsetTable: 'basic' | 'none') => {
        const corpus = stowCorpus(scale.stowLarge, LARGE_BYTES, 20, patientID, {
          transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
          numberOfFrames: 8,
          offsetTable,
        });
        const perRequest = instancesPerRequest(MAX_REQUEST_BYTES, corpus.files);
        const loaded = await both(servers, `WADO-RS ${what} corpus`, (s) => stowWorkload(s.url, corpus, perRequest, CONCURRENCY));
        return both(
          servers,
          `WADO-RS frames (${what})`,
          ifLoaded(servers, loaded, `${what} corpus`, (s) => wadoFrames(s.url, corpus.instances, CONCURRENCY, 5)),
          (s) => passes(() => wadoFrames(s.url, corpus.instances, CONCURRENCY, 5), corpus.instances.length)(),
          MEASURED_ROUNDS,
        );
      };
      r = await jpegFrames('JPEG', 'WADO-JPEG', 'basic');
      rows.push(...throughputRows('WADO-RS frame, JPEG (~64 KB of 8)', r, 'frames/s'));
      r = await jpegFrames('JPEG without offset table', 'WADO-JPEG-NO-TABLE', 'none');
      rows.push(...throughputRows('WADO-RS frame, JPEG without offset table (~64 KB of 8)', r, 'frames/s'));
    }

    // QIDO-RS, PS3.18 10.6: the corpus first (its load rate is one more STOW-RS figure, tiny instances).
    if (sections.has('qido')) {
      const instances = scale.qidoStudies * SERIES_PER_STUDY * INSTANCES_PER_SERIES;
      const load = await both(servers, `loading the QIDO-RS corpus (${scale.qidoStudies} studies, ${instances} instances)`, async (s) => {
        const t0 = performance.now();
        await loadQidoCorpus(s.url, scale.qidoStudies, CONCURRENCY);
        return { operations: instances, seconds: (performance.now() - t0) / 1000, bytes: 0, latencies: [] };
      });
      rows.push(row('STOW-RS tiny (~1 KB), 500/request', 'instances/s', load, perSecond));
      const qidoServer = (s: DicomwebServer): QidoServer => (s === servers.archive ? 'archive' : 'orthanc');
      for (const level of QIDO_LEVELS) {
        for (const key of QIDO_KEYS) {
          const run = { level, key, studies: scale.qidoStudies, concurrency: CONCURRENCY };
          const r = await both(
            servers,
            `QIDO-RS ${level} ${key}`,
            ifLoaded(servers, load, 'QIDO-RS corpus', (s) => qidoWorkload(s.url, { ...run, server: qidoServer(s), count: scale.queries })),
            // Warm-up: ten queries of the kind, for other values than the measured ones.
            (s) => qidoWorkload(s.url, { ...run, server: qidoServer(s), count: QIDO_WARM_UP_QUERIES, first: scale.queries }),
          );
          // Both servers must have found the same: otherwise the ratio compares different work.
          const [archiveMatches, orthancMatches] = [ok(r.archive)?.matches, ok(r.orthanc)?.matches];
          const unlike = archiveMatches !== undefined && orthancMatches !== undefined && archiveMatches !== orthancMatches;
          const notes = [key === 'fuzzy name' ? '[f]' : '', unlike ? `[m] ${archiveMatches} / ${orthancMatches}` : ''].filter(Boolean);
          rows.push(
            row(`QIDO-RS /${level} by ${key}`, 'queries/s', r, perSecond, {
              detail: { archive: latency(r.archive), orthanc: latency(r.orthanc) },
              note: notes.join(' ') || undefined,
            }),
          );
        }
      }
    }

    // Rendered and thumbnail resources, PS3.18 10.4.1.1.3-4: each kind of instance stored on both servers
    // (not timed), then each resource of every instance asked for once, so nothing is answered from a
    // cache of derived images; warm-up on instances of their own, then MEASURED_ROUNDS rounds in turns,
    // each on instances of its own.
    if (sections.has('rendered')) {
      for (const kind of RENDERED_KINDS) {
        const corpus = await renderedCorpus(kind, MEASURED_ROUNDS * scale.rendered + RENDERED_WARM_UP_INSTANCES);
        const warm = corpus.instances.slice(0, RENDERED_WARM_UP_INSTANCES);
        const rounds = Array.from({ length: MEASURED_ROUNDS }, (_, i) =>
          corpus.instances.slice(RENDERED_WARM_UP_INSTANCES + i * scale.rendered, RENDERED_WARM_UP_INSTANCES + (i + 1) * scale.rendered),
        );
        const perRequest = instancesPerRequest(MAX_REQUEST_BYTES, corpus.files);
        const label = RENDERED_IMAGES[kind].label;
        const loaded = await both(servers, `${label} corpus`, (s) => stowWorkload(s.url, corpus, perRequest, CONCURRENCY));
        for (const resource of RENDERED_RESOURCES) {
          const r = await both(
            servers,
            `${resource} ${label}`,
            // Orthanc has no thumbnail resource: its /rendered into a viewport of the thumbnail's size.
            ifLoaded(servers, loaded, `${label} corpus`, (s, round) =>
              renderedWorkload(s.url, rounds[round]!, kind, resource, CONCURRENCY, s === servers.orthanc),
            ),
            (s) => renderedWorkload(s.url, warm, kind, resource, CONCURRENCY, s === servers.orthanc),
            MEASURED_ROUNDS,
          );
          rows.push(
            row(`WADO-RS ${resource}, ${label}, image/jpeg`, 'images/s', r, perSecond, {
              detail: { archive: latency(r.archive), orthanc: latency(r.orthanc) },
              note: resource === 'thumbnail' ? '[t]' : '[i]',
            }),
            // CPU per image, whatever each server's threads: Orthanc's decoders run on several, the
            // archive's one Node.js process decodes on one (a Lambda function renders one image at a time).
            serverCpuRow(`WADO-RS ${resource}, ${label}`, r),
          );
        }
      }
    }

    // SEND-RS (Sup 248) against Orthanc's own DICOMweb forwarding, to the same destination Orthanc.
    if (sections.has('send') && destination && orthanc) {
      // ~40 KB (--send-bytes) and ~0.5 MB instances, each size its own corpus and rows.
      for (const [count, bytes] of [
        [scale.send, SEND_BYTES],
        [scale.sendLarge, SEND_LARGE_BYTES],
      ] as const) {
        const forArchive = sendCorpus(count, bytes);
        const forOrthanc = sendCorpus(count, bytes);
        const warmArchive = sendCorpus(SEND_WARM_UP_INSTANCES, bytes);
        const warmOrthanc = sendCorpus(SEND_WARM_UP_INSTANCES, bytes);
        const perRequest = instancesPerRequest(MAX_REQUEST_BYTES, forArchive.files);
        log(`SEND-RS ~${figure(bytes / 1000)} KB: loading the corpus into both origins`);
        for (const [url, corpus] of [
          [archive.url, forArchive],
          [archive.url, warmArchive],
          [orthanc.url, forOrthanc],
          [orthanc.url, warmOrthanc],
        ] as const) {
          await stowWorkload(url, { files: corpus.files, instances: [], bytes: corpus.bytes }, perRequest, CONCURRENCY);
        }
        // Warm-up (as in both()): a Send, and a forwarding, of other instances first.
        log('SEND-RS: warm-up');
        await benchSendRs({ origin: archive.url, originDataDir: archive.dataDir, destination: destination.url, corpus: warmArchive });
        await benchOrthancForward({ restUrl: orthanc.restUrl, server: 'destination', destination: destination.url, corpus: warmOrthanc });
        // CPU seconds of the origin and of the destination over a run (the destination's STOW-RS ingest is
        // the same work for both origins, so the origin rows are what differs).
        const [receiver, forwarder] = [destination, orthanc];
        const cpuOver = async <T>(origin: DicomwebServer, run: () => Promise<T>) => {
          const before = [processCpuSeconds(origin.pid), processCpuSeconds(receiver.pid)];
          const result = await run();
          return { result, origin: processCpuSeconds(origin.pid) - before[0]!, destination: processCpuSeconds(receiver.pid) - before[1]! };
        };
        log('SEND-RS: archive');
        const send = await cpuOver(archive, () =>
          benchSendRs({ origin: archive.url, originDataDir: archive.dataDir, destination: receiver.url, corpus: forArchive }),
        );
        log('SEND-RS: Orthanc forwarding');
        const forward = await cpuOver(forwarder, () =>
          benchOrthancForward({ restUrl: forwarder.restUrl, server: 'destination', destination: receiver.url, corpus: forOrthanc }),
        );
        const { sendBatchSize, sendMaxConcurrency } = loadConfig({ BUCKET_NAME: '-', TABLE_NAME: '-' });
        const cpuPerInstance = (measure: string, side: 'origin' | 'destination', note: string): ComparisonRow => ({
          measure,
          unit: 'ms/instance',
          archive: (send[side] * 1000) / count,
          orthanc: (forward[side] * 1000) / count,
          better: 'lower',
          note,
        });
        rows.push(
          {
            measure: `SEND-RS ${count} x ~${figure(bytes / 1000)} KB to Orthanc STOW-RS`,
            unit: 'instances/s',
            archive: send.result.completed / send.result.seconds,
            orthanc: forward.result.atDestination / forward.result.seconds,
            better: 'higher',
            detail: {
              archive: `${send.result.polls} polls, batches of ${sendBatchSize} x ${sendMaxConcurrency}`,
              orthanc: 'servers/{name}/stow, synchronous',
            },
            note: '[s]',
          },
          {
            measure: `SEND-RS ${count} x ~${figure(bytes / 1000)} KB, MB/s delivered`,
            unit: 'MB/s',
            archive: mb(send.result.bytes) / send.result.seconds,
            orthanc: mb(forward.result.bytes) / forward.result.seconds,
            better: 'higher',
          },
          cpuPerInstance(`SEND-RS ~${figure(bytes / 1000)} KB, origin server CPU`, 'origin', '[c]'),
          cpuPerInstance(`SEND-RS ~${figure(bytes / 1000)} KB, destination CPU (the same Orthanc)`, 'destination', '[d]'),
        );
      }
    } else if (sections.has('send')) {
      log('SEND-RS skipped: it needs Orthanc as the destination');
    }

    // The archive as `npm start` runs it, storing ~1 GB in ~0.5 MB instances: its peak RSS (issue 22's
    // target, under 300 MB). A fresh process, so earlier sections' peaks do not count; the corpus is
    // made and stored in rounds, so the bench's own process never holds the gigabyte.
    if (sections.has('memory')) {
      log('peak RSS of a fresh archive storing ~1 GB of ~0.5 MB instances');
      const fresh = await startArchiveProcess();
      try {
        const ROUND = 100;
        let stored = 0;
        let bytes = 0;
        while (bytes < 1e9) {
          const corpus = stowCorpus(ROUND, LARGE_BYTES, 20, 'MEMORY');
          await stowWorkload(fresh.url, corpus, instancesPerRequest(MAX_REQUEST_BYTES, corpus.files), CONCURRENCY);
          stored += ROUND;
          bytes += corpus.bytes;
        }
        const peak = peakRssBytes(fresh.pid);
        costs.push({
          measure: `archive (npm start) peak RSS storing ${figure(bytes / 1e9)} GB in ${stored} ~0.5 MB instances`,
          value: `${figure(peak / (1024 * 1024))} MB`,
          target: '< 300 MB (issue 22)',
          met: peak < 300 * 1024 * 1024,
        });
      } finally {
        await fresh.close();
      }
    }

    // Cloud cost drivers of the archive's handlers.
    if (sections.has('cost')) {
      if (destination) {
        log('cost drivers: CPU-ms per instance, peak RSS (separate processes)');
        const storeMb = 100;
        const c = await measureHandlerCosts({ destination: destination.url, cpuInstances: scale.cpuInstances, storeMb });
        measured.cpuMs = c.cpuMs;
        const cpuRow = (measure: string, key: string) => ({
          measure,
          value: `${figure(c.cpuMs[key])} CPU-ms/instance`,
          target: '(billed duration)',
        });
        costs.push(
          cpuRow('store, ~40 KB instances (10/request)', 'store.small'),
          cpuRow('store, ~0.5 MB instances (5/request)', 'store.large'),
          cpuRow('retrieve instance, ~40 KB', 'retrieve.small'),
          cpuRow('retrieve instance, ~0.5 MB', 'retrieve.large'),
          cpuRow('send (Send, Resolve, Deliver, Finalize), ~40 KB', 'send.small'),
        );
        // The floor under the first four: their S3 and DynamoDB calls alone, against the CPU Orthanc's
        // whole server spent per instance in this run's side-by-side rows, when they ran (note [a]).
        const awsCallsRow = (measure: string, key: string, sideBySide: string) => {
          const orthanc = rows.find((r) => r.measure === serverCpuMeasure(sideBySide))?.orthanc;
          const value = c.cpuMs[key]!;
          return {
            measure: `${measure}: its S3 and DynamoDB calls alone [a]`,
            value: `${figure(value)} CPU-ms/instance`,
            target:
              orthanc === undefined ? '(billed duration)' : `<= Orthanc's whole server, ${figure(orthanc)} ms/instance (${sideBySide})`,
            ...(orthanc !== undefined && { met: value <= orthanc }),
          };
        };
        costs.push(
          awsCallsRow('store, ~40 KB', 'store.small.aws', 'STOW-RS small (~40 KB)'),
          awsCallsRow('store, ~0.5 MB', 'store.large.aws', 'STOW-RS large (~0.5 MB)'),
          awsCallsRow('retrieve instance, ~40 KB', 'retrieve.small.aws', 'WADO-RS instance (~40 KB)'),
          awsCallsRow('retrieve instance, ~0.5 MB', 'retrieve.large.aws', 'WADO-RS instance (~0.5 MB)'),
        );
        // The target: memory grows with the largest instance, not with the request or response; the
        // growth of the same call on one instance is subtracted as the fixed cost of any call. Peak
        // RSS is what the function's memory size must hold; the live memory is what the handler holds,
        // without the garbage V8 has not collected yet.
        const memoryRow = (measure: string, m: CallMemory, kind: 'peak RSS' | 'live memory') => {
          const beyondOne = m.peak - m.before - m.referenceGrowth;
          return {
            measure: `${measure}, ${kind}${kind === 'live memory' ? ' [l]' : ''}`,
            value:
              `${kind === 'peak RSS' ? 'peak' : 'at most'} ${figure(mb(m.peak))} MB: +${figure(mb(m.peak - m.before))} MB over ${figure(mb(m.before))} MB, ` +
              `one instance +${figure(mb(m.referenceGrowth))} MB`,
            target: `growth beyond one instance <= 8 x largest instance (${figure(mb(8 * m.largestInstance))} MB)`,
            met: beyondOne <= 8 * m.largestInstance,
          };
        };
        const store = `store one ${figure(mb(c.store.rss.bytes))} MB request`;
        const retrieve = `retrieve one ${figure(mb(c.retrieve.rss.bytes))} MB series`;
        costs.push(
          memoryRow(store, c.store.rss, 'peak RSS'),
          memoryRow(store, c.store.live, 'live memory'),
          memoryRow(retrieve, c.retrieve.rss, 'peak RSS'),
          memoryRow(retrieve, c.retrieve.live, 'live memory'),
        );
      } else {
        log('handler CPU and memory skipped: the Send measurement needs Orthanc as the destination');
      }
      log('cost drivers: the DIMSE gateway storing one C-STORE data set');
      const dimseMb = 100;
      const dimse = await measureDimseStore(dimseMb);
      const dimseMeasure = `DIMSE C-STORE of one ${dimseMb} MB data set, gateway peak RSS`;
      if (dimse) {
        const times = (dimse.peak - dimse.before) / dimse.bytes;
        costs.push({
          measure: dimseMeasure,
          value: `peak ${figure(mb(dimse.peak))} MB: +${figure(mb(dimse.peak - dimse.before))} MB over ${figure(mb(dimse.before))} MB, ${figure(times)} x the data set`,
          target: `growth <= ${DIMSE_SIZING} x the data set (docs/dimse-gateway.md sizing)`,
          met: times <= DIMSE_SIZING,
        });
      } else {
        costs.push({
          measure: dimseMeasure,
          value: 'not measured: dcmtk (storescu) is not installed',
          target: `growth <= ${DIMSE_SIZING} x the data set`,
        });
      }
      log('cost drivers: bundles and cold module initialisation');
      for (const b of await measureBundles()) {
        costs.push(
          {
            measure: `bundle ${b.name}`,
            value: `${figure(b.bytes / 1024)} KB`,
            target: `< ${MAX_BUNDLE_BYTES / 1024} KB`,
            met: b.bytes < MAX_BUNDLE_BYTES,
          },
          { measure: `cold init ${b.name}`, value: `${figure(b.initMs)} ms`, target: '< 150 ms', met: b.initMs < 150 },
        );
      }
    }
    if (sections.has('cost')) {
      // The render function's cold start with its layer: sharp and the decoders load on its first image.
      log('cost drivers: the render function cold start, with its layer');
      const cold = await measureRenderColdStart();
      costs.push(
        {
          measure: 'render layer (sharp, libvips, WebAssembly codecs), unzipped',
          value: `${figure(mb(cold.layerBytes))} MB`,
          target: '< 250 MB with the function (Lambda quota)',
          met: cold.layerBytes + cold.bundleBytes < 250 * 1024 * 1024,
        },
        {
          measure: 'render cold start: require, first image, next image (512x512 CT as JPEG)',
          value: `${figure(cold.requireMs)} ms, ${figure(cold.firstImageMs)} ms, ${figure(cold.warmImageMs)} ms`,
          target: 'require < 150 ms',
          met: cold.requireMs < 150,
        },
      );
    }
    if (sections.has('calls')) {
      // What AWS bills per request on the cloud path: counts, the same on any machine (note [r]).
      log('cost drivers: S3 and DynamoDB calls per instance');
      const calls = await measureAwsCalls(AWS_CALLS_INSTANCES);
      const callsRow = (measure: string, key: string) => ({
        measure: `${measure}: S3 and DynamoDB calls [r]`,
        value: `${figure(calls[key])} calls/instance`,
        target: '(billed requests)',
      });
      costs.push(
        callsRow('store, one instance per request, new study', 'store.new-study'),
        callsRow('store, one instance per request, new series of a study', 'store.new-series'),
        callsRow('store, one instance per request, existing series', 'store.one-per-request'),
        callsRow('store, ten instances per request, new series', 'store.ten-per-request'),
        callsRow('store, identical re-store', 'store.identical'),
        callsRow('retrieve instance', 'retrieve'),
        callsRow('retrieve instance metadata', 'metadata'),
        callsRow('search /instances by PatientID, per instance found', 'search.patient-instances'),
        callsRow(`send (Send, Resolve, Deliver, Finalize), a study of ${AWS_CALLS_INSTANCES + 1} instances`, 'send'),
      );
      log('cost model: requests by operation, DynamoDB request units, bytes stored per instance');
      measured.calls = await measureModelCalls(AWS_CALLS_INSTANCES);
    }
  } finally {
    await archive.close();
    await orthanc?.close();
    await destination?.close();
  }

  const allNotes = [
    '[i] Each instance rendered once (Accept image/jpeg, default window and size), every answer checked: 200 image/jpeg, decoded after the run to the image size and samples; p50 / p95 latency per request at the same concurrency.',
    `[t] Thumbnail (PS3.18 10.4.1.1.4) of each instance once, checked as [i] (decoded, the image's aspect ratio, at most its size). Orthanc's DICOMweb plugin has no thumbnail resource (it answers 404): its column is its /rendered of the same frame with viewport=${THUMBNAIL_SIDE},${THUMBNAIL_SIDE} (PS3.18 8.3.5.1.3), the image a thumbnail is, as its clients would ask for it.`,
    "[c] CPU time of the whole server process during the run (every thread), per instance; the archive's process also runs its storage (the local engine's files and SQLite).",
    '[f] Orthanc has no fuzzy matching (it ignores fuzzymatching=true): it gets the lower-case family name as a prefix (PatientName=smith*), which its case-insensitive name matching answers with the same studies.',
    '[m] The servers answered different numbers of matches (archive / Orthanc) to the same queries: the ratio is not like for like.',
    '[s] Archive: one Send request (Sup 248 10.X) polled with Check Send Result until final; Orthanc: POST /dicom-web/servers/{name}/stow with Synchronous true.',
    '[d] CPU time of the destination Orthanc receiving the instances, per instance: the same server in both columns, so a difference is how each origin sends (request sizes, concurrency).',
    "[a] The S3 and DynamoDB calls the handler makes per instance (store: the SOP Instance UID lookup, two PutObjects, the name terms' BatchWriteItem, the conditional PutItem; retrieve: GetItem, GetObject), made alone through the same adapters in the cost process, with nothing else: the CPU the AWS SDK's client side needs per instance, under any handler. Compared with the CPU Orthanc's whole server spent per instance in the side-by-side rows ([c]): where it is more, the archive spends more CPU per instance than Orthanc before any work of its own or of its emulators.",
    `[r] S3 and DynamoDB requests per ~40 KB instance on the AWS adapters over the emulators (cost-worker.ts calls, ${AWS_CALLS_INSTANCES} instances a workload), counted by the call recorder: what S3 and DynamoDB bill per request. The Send function's reads of its request's progress while it waits, and Check Send Result, follow the clock and are not counted. test/integration/dicomweb/aws-calls.test.ts pins the counts of its own such workloads, so a change that adds a call fails there.`,
    `[l] Live memory (cost table): the V8 heap in use and the buffers outside it, right after a full collection, sampled every ${LIVE_SAMPLE_MS} ms during the call: what the handler holds at once. Peak RSS adds the garbage V8 had not collected yet.`,
  ];
  if (measured.calls || measured.cpuMs) {
    await writeMeasuredFigures(`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, measured);
    log(`wrote ${path.relative(process.cwd(), MEASURED_FILE)} (npm run cost prices it)`);
  }

  // The notes a row or cost driver of this run refers to.
  const marks = new Set([...rows.map((r) => r.note ?? ''), ...costs.map((c) => c.measure)].join(' ').match(/\[[a-z]\]/g));
  const notes = allNotes.filter((n) => marks.has(n.slice(0, 3)));
  console.log(`\n${comparisonText(rows)}\n\n${notes.join('\n')}\n`);
  if (costs.length) console.log(`${costText(costs)}\n`);

  if (!values['no-docs'] && SECTIONS.every((s) => sections.has(s))) {
    const file = path.join(PROJECT_ROOT, 'docs', 'performance.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const generated = [
      `Run of ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, scale **${values.scale}**: ${describeScale()}.`,
      '',
      '```',
      machine(installation?.version, installation?.pluginVersion),
      `command: npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}  (${Math.round((Date.now() - started.getTime()) / 1000)} s)`,
      '```',
      '',
      comparisonMarkdown(rows),
      '',
      ...notes.map((n) => `${n}  `),
      '',
      costMarkdown(costs),
    ].join('\n');
    await writeFile(file, replaceGenerated(current, generated));
    log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  if (sections.has('large')) await benchLargeSection();
}

/**
 * Large instances (issue 25) on an archive of their own; their rows go into a docs block of their
 * own, so `--sections large` alone keeps it current. Last: it removes its ~1.2 GB of files at the
 * end, and on a file system that makes creating files slow for minutes after many are deleted
 * (ext4 without a journal, docs/performance.md) the sections after it would measure that.
 */
async function benchLargeSection(): Promise<void> {
  const started = new Date();
  const large = await benchLarge({ log });
  console.log(`\n${costText(large)}\n`);
  if (values['no-docs']) return;
  const file = path.join(PROJECT_ROOT, 'docs', 'performance.md');
  const generated = [
    `Large instances, run of ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC (\`npm run bench -- --sections large\`, ${Math.round((Date.now() - started.getTime()) / 1000)} s):`,
    '',
    '```',
    machine(),
    '```',
    '',
    costMarkdown(large),
  ].join('\n');
  await writeFile(file, replaceGenerated(existsSync(file) ? readFileSync(file, 'utf8') : '', generated, LARGE_MARKERS));
  log(`wrote the large-instance block of ${path.relative(process.cwd(), file)}`);
}

function describeScale(): string {
  const instances = scale.qidoStudies * SERIES_PER_STUDY * INSTANCES_PER_SERIES;
  return (
    `STOW-RS ${scale.stowSmall} x ~40 KB and ${scale.stowLarge} x ~0.5 MB, many and one per request; QIDO-RS over ${scale.qidoStudies.toLocaleString('en-US')} studies / ` +
    `${instances.toLocaleString('en-US')} instances, ${scale.queries} queries per kind; rendered and thumbnail of ${scale.rendered} instances per kind; ` +
    `SEND-RS ${scale.send} x ~${figure(SEND_BYTES / 1000)} KB and ${scale.sendLarge} x ~${figure(SEND_LARGE_BYTES / 1000)} KB; concurrency ${CONCURRENCY}`
  );
}

function machine(orthancVersion?: string, pluginVersion?: string): string {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  const memory =
    sh('free', ['-h'])
      .split('\n')
      .find((l) => l.startsWith('Mem:'))
      ?.split(/\s+/)[1] ?? 'unknown';
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  return [
    `machine: ${sh('nproc', [])} CPUs (${cpuModel}), ${memory} memory (free -h), ${os.type()} ${os.release()}`,
    `node ${process.version}; Orthanc ${orthancVersion ?? 'not run'}, DICOMweb plugin ${pluginVersion ?? 'not run'}`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
