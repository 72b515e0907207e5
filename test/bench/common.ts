/** Helpers shared by the bench sections (test/bench/run.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { stowBody } from '../support/http';

/** Runs `worker` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await worker(items[next++]!);
    }),
  );
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const mb = (bytes: number) => bytes / (1024 * 1024);

/**
 * A memory field of a process's /proc/{pid}/status (Linux), in bytes: VmRSS, its resident set, or
 * VmHWM, the peak of it since the last resetPeakRss.
 */
export function procStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Sets a process's VmHWM back to its VmRSS (Linux: 5 written to /proc/{pid}/clear_refs). */
export function resetPeakRss(pid: number | 'self'): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** How often the cost worker samples the live memory during a call (test/bench/cost-worker.ts). */
export const LIVE_SAMPLE_MS = 5;

/** The machine's idle and total CPU ticks since boot, all cores (Linux /proc/stat, its first line). */
export function machineTicks(): { readonly idle: number; readonly total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are the time no process ran.
  return { idle: fields[3]! + fields[4]!, total: fields.reduce((a, b) => a + b, 0) };
}

/** The share of the machine's CPU time left idle between two machineTicks() readings. */
export const idleShare = (from: ReturnType<typeof machineTicks>, to: ReturnType<typeof machineTicks>) =>
  (to.idle - from.idle) / Math.max(1, to.total - from.total);

/** Seconds elapsed since a performance.now() reading. */
export const secondsSince = (t0: number) => (performance.now() - t0) / 1000;

/** A STOW-RS request body of several instances (multipart/related, PS3.18 10.5) and its media type. */
export interface StowRequest {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The request bodies storing `files`, `perRequest` instances each, built before a timed run (sendStow). */
export function stowRequests(files: readonly Uint8Array[], perRequest: number): StowRequest[] {
  const requests: StowRequest[] = [];
  for (let i = 0; i < files.length; i += perRequest) requests.push(stowBody(files.slice(i, i + perRequest)));
  return requests;
}

/** An answer's status and the bytes of its body. */
export interface Answer {
  readonly status: number;
  readonly bytes: number;
}

/** A GET of `url` asking for `accept` (withGet). */
export type Get = (url: string, accept: string) => Promise<Answer>;

/**
 * One request, `body` written to its socket as it is; the answer read to its end and counted, never
 * assembled. fetch copied every body sent into a new buffer (undici's extractBody) and gathered every
 * answer into another (10 MB for a series): garbage the client collected on the cores of the server
 * it measured, more CPU per ~0.5 MB instance than either server spent storing it.
 */
function exchange(url: string | URL, options: http.RequestOptions, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, options, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Runs `run` with `concurrency` kept-alive connections of its own (an agent), closed after it. */
async function withConnections<T>(concurrency: number, run: (agent: http.Agent) => Promise<T>): Promise<T> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    return await run(agent);
  } finally {
    agent.destroy();
  }
}

/** Sends STOW-RS `requests`, `concurrency` in flight (exchange); throws unless every one is answered 200. */
export function sendStow(baseUrl: string, requests: readonly StowRequest[], concurrency: number): Promise<void> {
  const url = new URL(`${baseUrl}/studies`);
  return withConnections(concurrency, (agent) =>
    pool(requests, concurrency, async ({ body, contentType }) => {
      const headers = { 'Content-Type': contentType, 'Content-Length': body.byteLength };
      const { status } = await exchange(url, { method: 'POST', agent, headers }, body);
      if (status !== 200) throw new Error(`STOW answered ${status}`);
    }),
  );
}

/** Runs `run` with a GET (exchange) over `concurrency` connections of its own, closed after it. */
export function withGet<T>(concurrency: number, run: (get: Get) => Promise<T>): Promise<T> {
  return withConnections(concurrency, (agent) => run((url, accept) => exchange(url, { agent, headers: { Accept: accept } })));
}

/** Stores `files` with STOW-RS, `perRequest` instances per request, `concurrency` requests in flight (sendStow). */
export async function stowAll(baseUrl: string, files: readonly Uint8Array[], perRequest: number, concurrency: number): Promise<void> {
  await sendStow(baseUrl, stowRequests(files, perRequest), concurrency);
}

/** Instances per STOW request that fit the archive's request limit, the largest file and its multipart framing counted. */
export function instancesPerRequest(maxRequestBytes: number, files: readonly Uint8Array[]): number {
  const largest = files.reduce((n, f) => Math.max(n, f.byteLength), 0);
  return Math.max(1, Math.floor(maxRequestBytes / (largest + 1024)));
}
