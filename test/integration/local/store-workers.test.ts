import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareInstance, type Preparation } from '../../../lambdas/dicomweb/store-prepare';
import { FailureReason } from '../../../lambdas/dicomweb/status-codes';
import { ModuleThreads } from '../../../lib/local/module-threads';
import { StoreWorkers } from '../../../lib/local/store-workers';
import { ReadBufferPool } from '../../../lambdas/storage/local/read-buffer-pool';
import { makeInstance } from '../../support/dicom-factory';

const FIXTURES = path.join(__dirname, '../../fixtures');
const THRESHOLD = 1024;

/** A preparation with its object version (random per write, lambdas/storage/keys.ts) blanked, without its copy. */
const withoutVersion = ({ copy: _copy, ...p }: Preparation & { copy?: Uint8Array }) =>
  JSON.parse(JSON.stringify(p).replace(/\.[0-9a-f]{16}-[0-9a-f]{8}\.(dcm|json)/g, '.V.$1')) as unknown;

describe('StoreWorkers', () => {
  // Every instance on a thread, whatever its size (the default prepares small ones inline).
  const workers = new StoreWorkers(2, THRESHOLD, { inlineMaxBytes: 0 });
  beforeAll(async () => {
    await workers.start();
  });
  afterAll(async () => {
    await workers.close();
  });

  it('starts its threads', () => {
    expect(workers.readyThreads).toBe(2);
  });

  it.each(['ct-explicit-le.dcm', 'mr-implicit-le.dcm', 'us-multiframe-jpeg.dcm'])(
    'prepares %s on a thread as prepareInstance does inline',
    async (name) => {
      const bytes = await readFile(path.join(FIXTURES, name));
      const threaded = await workers.prepare(bytes);
      expect('prepared' in threaded).toBe(true);
      expect(withoutVersion(threaded)).toEqual(withoutVersion(prepareInstance(bytes, THRESHOLD)));
    },
  );

  it('leaves the caller its bytes, even a view of a larger buffer', async () => {
    const file = makeInstance({ approximateBytes: 20_000 });
    const larger = Buffer.concat([Buffer.from('--boundary\r\n'), file, Buffer.from('\r\n--boundary--')]);
    const part = larger.subarray(12, 12 + file.byteLength);
    const threaded = await workers.prepare(part);
    expect('prepared' in threaded).toBe(true);
    expect(Buffer.from(part).equals(Buffer.from(file))).toBe(true);
    expect(larger.byteLength).toBe(file.byteLength + 26);
  });

  it("hands the thread's copy of a prepared instance to the caller, for its put to keep", async () => {
    const pool = new ReadBufferPool();
    const handing = new StoreWorkers(1, THRESHOLD, { inlineMaxBytes: 0, buffers: pool });
    try {
      await handing.start();
      const file = makeInstance({ approximateBytes: 100_000 });
      const prepared = await handing.prepare(file);
      expect('prepared' in prepared).toBe(true);
      // The same bytes, at the start of a pooled buffer of their own (donatable: ports.ts PutOptions).
      expect(Buffer.from(prepared.copy!).equals(file)).toBe(true);
      expect(prepared.copy!.byteOffset).toBe(0);
      expect(prepared.copy!.buffer.byteLength).toBe(128 * 1024);
      expect(pool.pooledBytes).toBe(0);
      // A refused instance's copy goes back to the pool; an instance prepared inline has none.
      const refused = await handing.prepare(Buffer.from('not a DICOM file at all, not even close'.repeat(10)));
      expect('failed' in refused).toBe(true);
      expect(refused.copy).toBeUndefined();
      expect(pool.pooledBytes).toBe(64 * 1024);
      const inline = new StoreWorkers(1, THRESHOLD, { inlineMaxBytes: 200_000, buffers: pool });
      expect((await inline.prepare(file)).copy).toBeUndefined();
      await inline.close();
    } finally {
      await handing.close();
    }
  });

  it('answers a file that is not Part 10 with Failure Reason C000, as inline', async () => {
    const threaded = await workers.prepare(Buffer.from('not a DICOM file at all, not even close'.repeat(10)));
    expect(threaded).toEqual({ failed: { sopClassUID: '', sopInstanceUID: '', failureReason: FailureReason.CannotUnderstand } });
  });

  it('prepares many at once across its threads, each answer its own', async () => {
    const files = Array.from({ length: 24 }, (_, i) => makeInstance({ approximateBytes: 5_000, instanceNumber: i + 1 }));
    const answers = await Promise.all(files.map((f) => workers.prepare(f)));
    answers.forEach((answer, i) => expect(withoutVersion(answer)).toEqual(withoutVersion(prepareInstance(files[i]!, THRESHOLD))));
  });

  it('prepares an instance up to its inline size on this thread, a larger one on a thread', async () => {
    const mixed = new StoreWorkers(1, THRESHOLD, { inlineMaxBytes: 30_000 });
    const calls = vi.spyOn(ModuleThreads.prototype, 'call');
    try {
      await mixed.start();
      const small = makeInstance({ approximateBytes: 20_000 });
      const large = makeInstance({ approximateBytes: 40_000 });
      expect(withoutVersion(await mixed.prepare(small))).toEqual(withoutVersion(prepareInstance(small, THRESHOLD)));
      expect(calls).not.toHaveBeenCalled();
      expect(withoutVersion(await mixed.prepare(large))).toEqual(withoutVersion(prepareInstance(large, THRESHOLD)));
      expect(calls).toHaveBeenCalledTimes(1);
    } finally {
      calls.mockRestore();
      await mixed.close();
    }
  });

  it('prepares inline once closed', async () => {
    const closing = new StoreWorkers(1, THRESHOLD, { inlineMaxBytes: 0 });
    await closing.start();
    await closing.close();
    const file = makeInstance({ approximateBytes: 2_000 });
    expect(closing.readyThreads).toBe(0);
    expect(withoutVersion(await closing.prepare(file))).toEqual(withoutVersion(prepareInstance(file, THRESHOLD)));
  });
});
