import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareInstance, type Preparation } from '../../../lambdas/dicomweb/store-prepare';
import { FailureReason } from '../../../lambdas/dicomweb/status-codes';
import { ModuleThreads } from '../../../lib/local/module-threads';
import { StoreWorkers } from '../../../lib/local/store-workers';
import { makeInstance } from '../../support/dicom-factory';

const FIXTURES = path.join(__dirname, '../../fixtures');
const THRESHOLD = 1024;

/** A preparation with its object version (random per write, lambdas/storage/keys.ts) blanked. */
const withoutVersion = (p: Preparation) =>
  JSON.parse(JSON.stringify(p).replace(/\.[0-9a-f]{16}-[0-9a-f]{8}\.(dcm|json)/g, '.V.$1')) as unknown;

describe('StoreWorkers', () => {
  // Every instance on a thread, whatever its size (the default prepares small ones inline).
  const workers = new StoreWorkers(2, THRESHOLD, 0);
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

  it('hands the threads copies from its pool, which come back with the answers', async () => {
    const file = makeInstance({ approximateBytes: 100_000 });
    await workers.prepare(file);
    const pooled = workers.pooledBytes;
    expect(pooled).toBeGreaterThanOrEqual(file.byteLength); // the copy came back
    for (let i = 0; i < 5; i++) expect('prepared' in (await workers.prepare(file))).toBe(true);
    expect(workers.pooledBytes).toBe(pooled); // the same buffer each time
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
    const mixed = new StoreWorkers(1, THRESHOLD, 30_000);
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
    const closing = new StoreWorkers(1, THRESHOLD, 0);
    await closing.start();
    await closing.close();
    const file = makeInstance({ approximateBytes: 2_000 });
    expect(closing.readyThreads).toBe(0);
    expect(withoutVersion(await closing.prepare(file))).toEqual(withoutVersion(prepareInstance(file, THRESHOLD)));
  });
});
