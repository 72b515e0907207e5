/**
 * SEND-RS section of `npm run bench`: the archive under test (the origin server) sends a generated
 * corpus to a second embedded archive with ONE Send request (Sup 248 10.X), and the user agent of
 * `npm run send` (lib/cli/send-client.ts) polls Check Send Result (10.Y) until 200. The time runs from
 * the Send request to the final 200, so it includes the polling granularity (Retry-After).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newUid } from '../../lambdas/dicom/uid';
import { formatOutcome, sendAndWait } from '../../lib/cli/send-client';
import type { EmbeddedArchive } from '../../lib/local/archive';
import { makeInstance } from '../support/dicom-factory';
import { tempArchive } from '../support/http';
import { instancesPerRequest, secondsSince, stowAll } from './common';

export interface SendBenchOptions {
  /** The origin server; its destination registry is `${originDataDir}/destinations.json`. */
  readonly origin: EmbeddedArchive;
  readonly originDataDir: string;
  readonly instances: number;
  /** Approximate size of each instance. */
  readonly bytes: number;
  /** STOW requests in flight while the corpus is loaded into the origin. */
  readonly concurrency: number;
  /** Instances per generated study. */
  readonly instancesPerStudy?: number;
}

export interface SendBenchResult {
  /** Matches of the Send request and how the sub-operations ended (PS3.4 C.4.2.3.1.1.4). */
  readonly matched: number;
  readonly completed: number;
  readonly warning: number;
  readonly failed: number;
  /** Final Status (0000,0900). */
  readonly status: number;
  /** Instances the destination holds afterwards (counted with QIDO-RS there). */
  readonly atDestination: number;
  /** Bytes of the Part 10 files sent. */
  readonly bytes: number;
  /** Send request to final 200. */
  readonly seconds: number;
  /** Check Send Result requests made. */
  readonly polls: number;
}

export async function benchSendRs(opts: SendBenchOptions): Promise<SendBenchResult> {
  const destination = await tempArchive();
  try {
    // The destination registry (allow-list) of the origin, re-read by it when the file changes.
    await writeFile(
      path.join(opts.originDataDir, 'destinations.json'),
      JSON.stringify({ destinations: [{ url: destination.url, auth: { type: 'none' } }] }),
    );
    const patientID = `SEND-BENCH-${Date.now()}`;
    const perStudy = opts.instancesPerStudy ?? 100;
    const studies = Array.from({ length: Math.max(1, Math.ceil(opts.instances / perStudy)) }, () => ({
      studyInstanceUID: newUid(),
      seriesInstanceUID: newUid(),
    }));
    const corpus = Array.from({ length: opts.instances }, (_, i) =>
      makeInstance({ ...studies[Math.floor(i / perStudy)]!, patientID, patientName: 'Bench^Send', approximateBytes: opts.bytes }),
    );
    const bytes = corpus.reduce((n, b) => n + b.byteLength, 0);
    await stowAll(opts.origin.url, corpus, instancesPerRequest(opts.origin.config.maxRequestBytes, corpus), opts.concurrency);

    let polls = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (init?.method === 'GET') polls++;
      return fetch(input, init);
    };
    const t0 = performance.now();
    const outcome = await sendAndWait({
      origin: opts.origin.url,
      resourcePath: '/studies',
      destination: destination.url,
      search: [['PatientID', patientID]],
      maxWaitSeconds: 3600,
      fetch: countingFetch,
    });
    const seconds = secondsSince(t0);
    if (outcome.kind !== 'completed') throw new Error(`SEND-RS bench: ${formatOutcome(outcome)}`);

    let atDestination = 0;
    for (const s of studies) {
      const r = await fetch(`${destination.url}/studies/${s.studyInstanceUID}/instances?limit=5000`);
      atDestination += r.status === 200 ? ((await r.json()) as unknown[]).length : (await r.arrayBuffer(), 0);
    }
    const { response } = outcome;
    // Figures of a partial delivery would mislead: the bench fails instead.
    if (response.completed !== opts.instances || atDestination !== opts.instances) {
      throw new Error(`SEND-RS bench: ${formatOutcome(outcome).trim()}; the destination holds ${atDestination} of ${opts.instances}`);
    }
    return {
      matched: response.completed + response.warning + response.failed,
      completed: response.completed,
      warning: response.warning,
      failed: response.failed,
      status: response.status,
      atDestination,
      bytes,
      seconds,
      polls,
    };
  } finally {
    await destination.close();
  }
}
