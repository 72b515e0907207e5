import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMultipartRelated } from '../../../../lambdas/dicom/multipart';
import { NO_PROGRESS } from '../../../../lib/cli/bulk-progress';
import { instancePath, RetrieveError, writeParts } from '../../../../lib/cli/retrieve-client';
import { makeInstance } from '../../../../test/support/dicom-factory';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'retrieve-client-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STUDY = '2.25.20';
const SERIES = '2.25.21';
const instances = ['2.25.22', '2.25.23', '2.25.24'].map((sop) => ({
  sop,
  bytes: makeInstance({ studyInstanceUID: STUDY, seriesInstanceUID: SERIES, sopInstanceUID: sop, approximateBytes: 3000 }),
}));

/** A WADO-RS body cut into chunks of `size` bytes, so that boundaries and parts straddle them. */
async function* chunked(body: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const all: Buffer[] = [];
  for await (const c of body) all.push(Buffer.from(c));
  const bytes = Buffer.concat(all);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const body = (boundary: string, items = instances) =>
  writeMultipartRelated(
    items.map((i) => ({ contentType: 'application/dicom', body: i.bytes })),
    boundary,
  );

describe('writeParts', () => {
  it.each([1, 7, 4096])('writes each part to DIR/study/series/sop.dcm, byte for byte, from %i-byte chunks', async (size) => {
    const target = { outDir: dir, study: STUDY, series: SERIES };
    const done = await writeParts(chunked(body('bnd'), size), 'bnd', target, NO_PROGRESS);
    expect(done).toEqual({ written: 3, present: 0, bytes: instances.reduce((n, i) => n + i.bytes.length, 0) });
    for (const i of instances)
      expect(Buffer.compare(await readFile(instancePath(dir, STUDY, SERIES, i.sop)), Buffer.from(i.bytes))).toBe(0);
    // Nothing temporary left behind.
    expect((await readdir(path.join(dir, STUDY, SERIES))).sort()).toEqual(instances.map((i) => `${i.sop}.dcm`));

    const again = await writeParts(chunked(body('bnd'), size), 'bnd', target, NO_PROGRESS);
    expect(again).toEqual({ written: 0, present: 3, bytes: 0 });
  });

  it('refuses a part that is not a Part 10 instance, keeping the parts before it', async () => {
    const parts = writeMultipartRelated(
      [
        { contentType: 'application/dicom', body: instances[0]!.bytes },
        { contentType: 'application/dicom', body: Buffer.from('garbage') },
      ],
      'bnd',
    );
    await expect(writeParts(parts, 'bnd', { outDir: dir, study: STUDY, series: SERIES }, NO_PROGRESS)).rejects.toThrow(RetrieveError);
    expect(await readdir(path.join(dir, STUDY, SERIES))).toEqual([`${instances[0]!.sop}.dcm`]);
  });
});

describe('instancePath', () => {
  it('refuses a UID that could leave DIR', () => {
    expect(() => instancePath(dir, STUDY, '../..', '2.25.1')).toThrow(RetrieveError);
    expect(() => instancePath(dir, STUDY, SERIES, '1/2')).toThrow(RetrieveError);
  });
});
