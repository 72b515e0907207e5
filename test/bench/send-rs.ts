/**
 * SEND-RS section of `npm run bench`: the archive under test (the origin server) sends a generated
 * corpus to a destination's STOW-RS with ONE Send request (Sup 248 10.X), and the user agent of
 * `npm run send` (lambdas/send/send-client.ts) polls Check Send Result (10.Y) until 200. The time runs from
 * the Send request to the final 200, so it includes the polling granularity (Retry-After).
 * Its counterpart for Orthanc is the DICOMweb plugin's own forwarding, `POST
 * /dicom-web/servers/{name}/stow` of the same studies to the same kind of destination.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newUid } from '../../lambdas/dicom/uid';
import { sendAndWait } from '../../lambdas/send/send-client';
import { formatOutcome } from '../../lib/cli/send-output';
import { makeInstance } from '../support/dicom-factory';
import { pool, secondsSince } from './common';

/** The instances of a Send: studies of `perStudy` instances, all of one patient. */
export interface SendCorpus {
  readonly patientID: string;
  readonly studyInstanceUIDs: readonly string[];
  readonly files: readonly Uint8Array[];
  /** Bytes of the Part 10 files. */
  readonly bytes: number;
}

export function sendCorpus(instances: number, approximateBytes: number, perStudy = 100): SendCorpus {
  const patientID = `SEND-BENCH-${newUid().slice(-12)}`;
  const studies = Array.from({ length: Math.max(1, Math.ceil(instances / perStudy)) }, () => ({
    studyInstanceUID: newUid(),
    seriesInstanceUID: newUid(),
  }));
  const files = Array.from({ length: instances }, (_, i) =>
    makeInstance({ ...studies[Math.floor(i / perStudy)]!, patientID, patientName: 'Bench^Send', approximateBytes }),
  );
  return {
    patientID,
    studyInstanceUIDs: studies.map((s) => s.studyInstanceUID),
    files,
    bytes: files.reduce((n, b) => n + b.byteLength, 0),
  };
}

/** Instances a DICOMweb server holds in the given studies (QIDO-RS, PS3.18 10.6). */
export async function countInstances(url: string, studyInstanceUIDs: readonly string[]): Promise<number> {
  let count = 0;
  await pool(studyInstanceUIDs, 4, async (study) => {
    const r = await fetch(`${url}/studies/${study}/instances?limit=5000`, { headers: { Accept: 'application/dicom+json' } });
    const found = r.status === 200 ? ((await r.json()) as unknown[]).length : (await r.arrayBuffer(), 0);
    count += found;
  });
  return count;
}

export interface SendBenchOptions {
  /** Service root of the origin archive, which already holds `corpus`. */
  readonly origin: string;
  /** Its data directory: its destination registry is `${originDataDir}/destinations.json`. */
  readonly originDataDir: string;
  /** Service root of the destination (its STOW-RS receives the instances). */
  readonly destination: string;
  readonly corpus: SendCorpus;
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
  const { corpus } = opts;
  // The destination registry (allow-list) of the origin, re-read by it when the file changes.
  await writeFile(
    path.join(opts.originDataDir, 'destinations.json'),
    JSON.stringify({ destinations: [{ url: opts.destination, auth: { type: 'none' } }] }),
  );
  let polls = 0;
  const countingFetch: typeof fetch = (input, init) => {
    if (init?.method === 'GET') polls++;
    return fetch(input, init);
  };
  const t0 = performance.now();
  const outcome = await sendAndWait({
    origin: opts.origin,
    resourcePath: '/studies',
    destination: opts.destination,
    search: [['PatientID', corpus.patientID]],
    maxWaitSeconds: 3600,
    fetch: countingFetch,
  });
  const seconds = secondsSince(t0);
  if (outcome.kind !== 'completed') throw new Error(`SEND-RS bench: ${formatOutcome(outcome)}`);

  const atDestination = await countInstances(opts.destination, corpus.studyInstanceUIDs);
  const { response } = outcome;
  const instances = corpus.files.length;
  // Figures of a partial delivery would mislead: the bench fails instead.
  if (response.completed !== instances || atDestination !== instances) {
    throw new Error(`SEND-RS bench: ${formatOutcome(outcome).trim()}; the destination holds ${atDestination} of ${instances}`);
  }
  return {
    matched: response.completed + response.warning + response.failed,
    completed: response.completed,
    warning: response.warning,
    failed: response.failed,
    status: response.status,
    atDestination,
    bytes: corpus.bytes,
    seconds,
    polls,
  };
}

export interface OrthancForwardOptions {
  /** Orthanc's REST root; it already holds `corpus`. */
  readonly restUrl: string;
  /** Name of the destination in its DicomWeb "Servers" configuration. */
  readonly server: string;
  /** Service root of the destination, to count what arrived. */
  readonly destination: string;
  readonly corpus: SendCorpus;
}

/**
 * Orthanc's own DICOMweb forwarding of the corpus's studies (its STOW-RS client, one synchronous
 * job), timed from the request to its answer; fails unless every instance arrived.
 */
export async function benchOrthancForward(opts: OrthancForwardOptions): Promise<{ seconds: number; atDestination: number; bytes: number }> {
  const resources: string[] = [];
  for (const study of opts.corpus.studyInstanceUIDs) {
    const r = await fetch(`${opts.restUrl}/tools/lookup`, { method: 'POST', body: study });
    const found = ((await r.json()) as { ID: string; Type: string }[]).find((x) => x.Type === 'Study');
    if (!found) throw new Error(`SEND-RS bench: Orthanc does not hold study ${study}`);
    resources.push(found.ID);
  }
  const t0 = performance.now();
  const r = await fetch(`${opts.restUrl}/dicom-web/servers/${opts.server}/stow`, {
    method: 'POST',
    body: JSON.stringify({ Resources: resources, Synchronous: true }),
  });
  const answer = await r.text();
  const seconds = secondsSince(t0);
  if (r.status !== 200) throw new Error(`SEND-RS bench: Orthanc forwarding answered ${r.status}: ${answer.slice(0, 200)}`);
  const atDestination = await countInstances(opts.destination, opts.corpus.studyInstanceUIDs);
  if (atDestination !== opts.corpus.files.length) {
    throw new Error(`SEND-RS bench: Orthanc forwarded ${atDestination} of ${opts.corpus.files.length} instances`);
  }
  return { seconds, atDestination, bytes: opts.corpus.bytes };
}
