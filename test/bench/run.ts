/**
 * `npm run bench`: throughput and memory of the embedded archive on a generated corpus.
 *   npm run bench -- --instances 500 --bytes 500000 --concurrency 4 --send-instances 1000 --send-bytes 40000
 * Prints STOW-RS, QIDO-RS and WADO-RS throughput (instances/s, MB/s, queries/s, p50/p95), SEND-RS
 * throughput to a second embedded archive (./send-rs.ts) and the peak RSS of the process (archives
 * and client share it, so the figure is an upper bound for the archive).
 * Targets live here, never in timed tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startArchive } from '../../lib/local/archive';
import { makeInstance } from '../support/dicom-factory';
import { multipartParts } from '../support/http';
import { newUid } from '../../lambdas/dicom/uid';
import { instancesPerRequest, mb, percentile, pool as poolOf, stowAll } from './common';
import { benchSendRs } from './send-rs';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '500' },
    bytes: { type: 'string', default: '500000' },
    concurrency: { type: 'string', default: '4' },
    queries: { type: 'string', default: '300' },
    'send-instances': { type: 'string', default: '1000' },
    'send-bytes': { type: 'string', default: '40000' },
  },
});
const N = Number(values.instances);
const BYTES = Number(values.bytes);
const CONCURRENCY = Number(values.concurrency);
const QUERIES = Number(values.queries);
const SEND_N = Number(values['send-instances']);
const SEND_BYTES = Number(values['send-bytes']);

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

const pool = <T>(items: readonly T[], worker: (item: T) => Promise<void>) => poolOf(items, CONCURRENCY, worker);

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-bench-'));
  // Retry-After 1 s: the SEND-RS figure includes the polling granularity.
  const archive = await startArchive({ dataDir, env: { SEND_RETRY_AFTER_SECONDS: '1' } });
  try {
    console.log(`corpus: ${N} instances of ~${BYTES} bytes, concurrency ${CONCURRENCY}`);
    const studies = Array.from({ length: Math.max(1, Math.ceil(N / 50)) }, (_, i) => ({
      study: newUid(),
      series: newUid(),
      patientID: `BENCH-${i}`,
    }));
    const month = (i: number) => String((i % studies.length % 12) + 1).padStart(2, '0');
    const corpus = Array.from({ length: N }, (_, i) => {
      const s = studies[i % studies.length]!;
      return makeInstance({
        studyInstanceUID: s.study,
        seriesInstanceUID: s.series,
        patientID: s.patientID,
        patientName: `Bench^Patient${i % studies.length}`,
        studyDate: `2024${month(i)}15`,
        approximateBytes: BYTES,
      });
    });
    const totalBytes = corpus.reduce((n, b) => n + b.byteLength, 0);

    // STOW-RS: as many instances per request as the request limit allows.
    const perRequest = instancesPerRequest(archive.config.maxRequestBytes, corpus);
    let t = performance.now();
    await stowAll(archive.url, corpus, perRequest, CONCURRENCY);
    let s = (performance.now() - t) / 1000;
    console.log(`STOW-RS   ${(N / s).toFixed(1)} instances/s  ${(mb(totalBytes) / s).toFixed(1)} MB/s  (${perRequest} per request)`);

    // QIDO-RS: study, series and instance level.
    const queries = [
      (i: number) => `/studies?PatientID=BENCH-${i % studies.length}`,
      (i: number) => `/studies?StudyDate=2024${month(i)}01-2024${month(i)}28`,
      (i: number) => `/studies?PatientName=Bench*&PatientID=BENCH-${i % studies.length}`,
      (i: number) => `/studies?PatientName=bench&fuzzymatching=true&PatientID=BENCH-${i % studies.length}`,
      (i: number) => `/studies/${studies[i % studies.length]!.study}/series`,
      (i: number) => `/studies/${studies[i % studies.length]!.study}/instances?limit=10`,
    ];
    const latencies: number[] = [];
    t = performance.now();
    await pool(
      Array.from({ length: QUERIES }, (_, i) => i),
      async (i) => {
        const q0 = performance.now();
        const r = await fetch(`${archive.url}${queries[i % queries.length]!(i)}`);
        await r.arrayBuffer();
        if (r.status !== 200) throw new Error(`QIDO answered ${r.status}`);
        latencies.push(performance.now() - q0);
      },
    );
    s = (performance.now() - t) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `QIDO-RS   ${(QUERIES / s).toFixed(1)} queries/s  p50 ${percentile(latencies, 50).toFixed(1)} ms  p95 ${percentile(latencies, 95).toFixed(1)} ms`,
    );

    // WADO-RS: every instance, as stored.
    const refs: string[] = [];
    for (const st of studies) {
      const r = await fetch(`${archive.url}/studies/${st.study}/instances?limit=5000`);
      for (const item of (await r.json()) as any[]) refs.push(item['00081190'].Value[0]);
    }
    let bytes = 0;
    t = performance.now();
    await pool(refs, async (url) => {
      const r = await fetch(url, { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
      for (const part of await multipartParts(r)) bytes += part.body.byteLength;
    });
    s = (performance.now() - t) / 1000;
    console.log(`WADO-RS   ${(refs.length / s).toFixed(1)} instances/s  ${(mb(bytes) / s).toFixed(1)} MB/s`);

    t = performance.now();
    bytes = 0;
    await pool(studies, async (st) => {
      const r = await fetch(`${archive.url}/studies/${st.study}/series/${st.series}`, {
        headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
      });
      bytes += (await r.arrayBuffer()).byteLength;
    });
    s = (performance.now() - t) / 1000;
    console.log(`WADO-RS   series retrieve ${(mb(bytes) / s).toFixed(1)} MB/s`);

    if (SEND_N > 0) {
      const send = await benchSendRs({ origin: archive, originDataDir: dataDir, instances: SEND_N, bytes: SEND_BYTES, concurrency: CONCURRENCY });
      const { sendBatchSize, sendMaxConcurrency } = archive.config;
      console.log(
        `SEND-RS   ${(send.completed / send.seconds).toFixed(1)} instances/s  ${(mb(send.bytes) / send.seconds).toFixed(1)} MB/s delivered  ` +
          `(${send.matched} instances of ~${SEND_BYTES} bytes in one Send, ${send.seconds.toFixed(1)} s, ${send.polls} polls, ` +
          `batches of ${sendBatchSize} x ${sendMaxConcurrency} in parallel)`,
      );
      console.log(
        `SEND-RS   final Status ${send.status.toString(16).toUpperCase().padStart(4, '0')}: completed ${send.completed}  warning ${send.warning}  ` +
          `failed ${send.failed}; destination holds ${send.atDestination}`,
      );
    }
    console.log(`peak RSS  ${mb(peakRss).toFixed(0)} MB (archive + client + corpus of ${mb(totalBytes).toFixed(0)} MB in one process)`);
  } finally {
    clearInterval(sampler);
    await archive.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
