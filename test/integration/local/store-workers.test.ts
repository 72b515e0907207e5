import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareInstance, type Preparation } from '../../../lambdas/dicomweb/store-prepare';
import { FailureReason } from '../../../lambdas/dicomweb/status-codes';
import { StoreWorkers } from '../../../lib/local/store-workers';
import { makeInstance } from '../../support/dicom-factory';

const FIXTURES = path.join(__dirname, '../../fixtures');
const THRESHOLD = 1024;

/** A preparation with its object version (random per write, lambdas/storage/keys.ts) blanked. */
const withoutVersion = (p: Preparation) =>
  JSON.parse(JSON.stringify(p).replace(/\.[0-9a-f]{16}-[0-9a-f]{8}\.(dcm|json)/g, '.V.$1')) as unknown;

describe('StoreWorkers', () => {
  const workers = new StoreWorkers(2, THRESHOLD);
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

  it('prepares inline once closed', async () => {
    const closing = new StoreWorkers(1, THRESHOLD);
    await closing.start();
    await closing.close();
    const file = makeInstance({ approximateBytes: 2_000 });
    expect(closing.readyThreads).toBe(0);
    expect(withoutVersion(await closing.prepare(file))).toEqual(withoutVersion(prepareInstance(file, THRESHOLD)));
  });
});
