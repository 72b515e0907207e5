/**
 * Reliability, faults: the embedded archive (`npm start`, lib/local/main.ts) killed with SIGKILL in
 * the middle of concurrent Store requests and in the middle of a Send, then restarted on the same
 * data directory. The archive's invariants (docs/architecture.md, write order), not the emulators' durability
 * of unacknowledged writes, are what is checked:
 * - every instance a Store response acknowledged is retrievable byte-identical;
 * - every instance the index lists has its object (no index entry without its object);
 * - the interrupted Send ends: Check Send Result is final, its counters add up to the instances it
 *   matched, and none counted Completed is missing at the destination.
 * On both storages of `npm start` (STORAGE): the local engine and the AWS adapters on the emulators.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ARCHIVE_NODE_FLAGS, ARCHIVE_START } from '../../lib/local/node-flags';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { makeInstance } from '../support/dicom-factory';
import { startFakeDestination, type FakeDestination } from '../support/fake-destination';
import { DICOM_JSON } from '../support/http';
import { Ledger, lostOrAltered, storeInstances, walkIndex, type SentInstance } from '../support/ledger';

type Module = Record<string, { vr: string; Value?: any[] }>;

const root = path.resolve(__dirname, '../..');
const STATUS = '00000900';
const REMAINING = '00001020';
const COMPLETED = '00001021';
const FAILED = '00001022';
const WARNING = '00001023';
const v = (m: Module, tag: string): number | undefined => m[tag]?.Value?.[0];

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/**
 * Starts `npm start`'s entry on dataDir and resolves with its URL once it prints "ready at". Node
 * runs it as npm start does, in this child itself, so a SIGKILL of the child kills the archive.
 */
function startOn(dataDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...ARCHIVE_NODE_FLAGS, ARCHIVE_START], {
    cwd: root,
    env: { ...process.env, ...env, DATA_DIR: dataDir, PORT: '0', DIMSE_PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`archive not ready after 30 s: ${out}`)), 30_000);
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-2000)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`archive exited with ${code} before it was ready: ${out} ${err}`));
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'archive-sigkill-'));
  dirs.push(dir);
  return dir;
}

const until = async (condition: () => boolean, timeoutMs: number) => {
  for (const end = Date.now() + timeoutMs; !condition() && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
};

afterEach(async () => {
  await Promise.all([...children].map(kill9));
});
afterAll(async () => {
  await Promise.all([...children].map(kill9));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe.each(['local', 'aws-emulators'])('STORAGE=%s', (storage) => {
  const startArchiveProcess = (dataDir: string, env: Record<string, string> = {}) => startOn(dataDir, { ...env, STORAGE: storage });

  describe('SIGKILL during concurrent Store requests', () => {
    it('after a restart every acknowledged instance is there byte-identical, and every indexed instance has its object', async () => {
      const dataDir = await tempDir();
      const first = await startArchiveProcess(dataDir);
      const ledger = new Ledger();
      const studies = Array.from({ length: 3 }, () => ({ studyInstanceUID: newUid(), seriesInstanceUID: newUid() }));
      let killed = false;
      const faults: string[] = [];

      async function client(n: number): Promise<void> {
        for (let op = 0; !killed && op < 200; op++) {
          const study = studies[(n + op) % studies.length]!;
          const sent: SentInstance[] = Array.from({ length: 1 + (op % 3) }, () => {
            const ids = { ...study, sopInstanceUID: newUid() };
            return { ...ids, bytes: makeInstance({ ...ids, patientID: 'KILL-STOW' }) };
          });
          try {
            const r = await storeInstances(first.url, sent);
            expect(r.status).toBeLessThan(500);
            ledger.record(r.status, r.module, sent);
          } catch (error) {
            // The connection died with the process: this request was not acknowledged.
            if (!killed) throw error;
            faults.push((error as Error).name);
          }
        }
      }
      const clients = Array.from({ length: 12 }, (_, n) => client(n));
      // Kill once the clients have real work acknowledged and more in flight.
      await until(() => ledger.acknowledged.size >= 30, 30_000);
      expect(ledger.acknowledged.size).toBeGreaterThanOrEqual(30);
      killed = true;
      await kill9(first.child);
      await Promise.all(clients);

      const second = await startArchiveProcess(dataDir);
      expect(await lostOrAltered(second.url, ledger)).toEqual([]);
      const { listed, withoutObject } = await walkIndex(second.url);
      expect(withoutObject).toEqual([]);
      expect(listed.filter((uid) => !ledger.acknowledged.has(uid)).length).toBeLessThanOrEqual(12 * 3); // at most the in-flight ones
      for (const uid of ledger.acknowledged.keys()) expect(listed).toContain(uid);
      // The archive still stores after the restart.
      const again: SentInstance = { ...studies[0]!, sopInstanceUID: newUid(), bytes: new Uint8Array() };
      const bytes = makeInstance({ ...again, patientID: 'KILL-STOW' });
      const r = await storeInstances(second.url, [{ ...again, bytes }]);
      expect(r.status).toBe(200);
      await kill9(second.child);
    }, 120_000);
  });

  describe('SIGKILL during a Send', () => {
    let peer: FakeDestination;
    afterAll(async () => peer?.close());

    it('after a restart Check Send Result ends, with counters that add up and no Completed instance missing', async () => {
      const dataDir = await tempDir();
      peer = await startFakeDestination({ kind: 'slow', delayMs: 150 });
      await writeFile(
        path.join(dataDir, 'destinations.json'),
        JSON.stringify({ destinations: [{ url: peer.url, auth: { type: 'none' } }] }),
      );
      const env = { SEND_BATCH_SIZE: '5', SEND_MAX_CONCURRENCY: '1', SEND_WAIT_MS: '100' };
      const first = await startArchiveProcess(dataDir, env);

      const studyInstanceUID = newUid();
      const seriesInstanceUID = newUid();
      const sent: SentInstance[] = Array.from({ length: 100 }, () => {
        const ids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID: newUid() };
        return { ...ids, bytes: makeInstance({ ...ids, patientID: 'KILL-SEND' }) };
      });
      for (let i = 0; i < sent.length; i += 20) expect((await storeInstances(first.url, sent.slice(i, i + 20))).status).toBe(200);

      const transactionUID = newUid();
      const send = await fetch(
        `${first.url}/studies/send-requests/${transactionUID}?destination=${encodeURIComponent(peer.url)}&StudyInstanceUID=${studyInstanceUID}`,
        { method: 'POST', headers: { Accept: DICOM_JSON } },
      );
      expect(send.status).toBe(202);
      await send.arrayBuffer();
      // Kill once the Send is well under way: some batches delivered, most still to go.
      await until(() => peer.stored.length >= 20, 30_000);
      expect(peer.stored.length).toBeGreaterThanOrEqual(20);
      await kill9(first.child);
      const deliveredBeforeKill = new Set(peer.stored);
      expect(deliveredBeforeKill.size).toBeLessThan(100);

      const second = await startArchiveProcess(dataDir, env);
      let r = await fetch(`${second.url}/studies/send-requests/${transactionUID}`, { headers: { Accept: DICOM_JSON } });
      for (let i = 0; i < 50 && r.status === 202; i++) {
        await r.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 100));
        r = await fetch(`${second.url}/studies/send-requests/${transactionUID}`, { headers: { Accept: DICOM_JSON } });
      }
      expect(r.status).toBe(200);
      const [final] = (await r.json()) as Module[];
      const [completed, warning, failed] = [v(final!, COMPLETED) ?? 0, v(final!, WARNING) ?? 0, v(final!, FAILED) ?? 0];
      expect(final![REMAINING]?.Value).toBeUndefined();
      expect(completed + warning + failed).toBe(100);
      // Counted Completed only after the destination acknowledged it; the remainder counts as failed.
      expect(completed).toBeGreaterThan(0);
      expect(completed).toBeLessThanOrEqual(deliveredBeforeKill.size);
      expect(failed).toBeGreaterThan(0);
      expect(v(final!, STATUS)).toBe(0xb000);
      // The archive's own data survived the kill.
      const ledger = new Ledger();
      ledger.record(
        200,
        { '00081199': { vr: 'SQ', Value: sent.map((s) => ({ '00081155': { vr: 'UI', Value: [s.sopInstanceUID] } })) } },
        sent,
      );
      expect(await lostOrAltered(second.url, ledger)).toEqual([]);
      const { listed, withoutObject } = await walkIndex(second.url);
      expect(withoutObject).toEqual([]);
      expect(listed.sort()).toEqual(sent.map((s) => s.sopInstanceUID).sort());
      await kill9(second.child);
    }, 120_000);
  });
});
