/** Helpers shared by the bench sections (test/bench/run.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Seconds elapsed since a performance.now() reading. */
export const secondsSince = (t0: number) => (performance.now() - t0) / 1000;

/**
 * Stores `files` with STOW-RS (PS3.18 10.5), `perRequest` instances per request, `concurrency`
 * requests in flight; throws unless every request is answered 200.
 */
export async function stowAll(baseUrl: string, files: readonly Uint8Array[], perRequest: number, concurrency: number): Promise<void> {
  const batches: Uint8Array[][] = [];
  for (let i = 0; i < files.length; i += perRequest) batches.push(files.slice(i, i + perRequest));
  await pool(batches, concurrency, async (batch) => {
    const { body, contentType } = stowBody(batch);
    const r = await fetch(`${baseUrl}/studies`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`STOW answered ${r.status}`);
  });
}

/** Instances per STOW request that fit the archive's request limit, the largest file and its multipart framing counted. */
export function instancesPerRequest(maxRequestBytes: number, files: readonly Uint8Array[]): number {
  const largest = files.reduce((n, f) => Math.max(n, f.byteLength), 0);
  return Math.max(1, Math.floor(maxRequestBytes / (largest + 1024)));
}
