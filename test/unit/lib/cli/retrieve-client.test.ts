import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMultipartRelated } from '../../../../lambdas/dicom/multipart';
import { NO_PROGRESS } from '../../../../lib/cli/bulk-progress';
import { instancePath, RetrieveError, retrieveInstanceFile, retrieveStudy, writeParts } from '../../../../lib/cli/retrieve-client';
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

describe('retrieveStudy above the response limit', () => {
  it('retrieves a series answered 413 instance by instance, following a 303 to the object without credentials', async () => {
    const calls: string[] = [];
    const instanceUrl = (sop: string) => `http://archive/studies/${STUDY}/series/${SERIES}/instances/${sop}`;
    const fetch = (async (url: string, init: RequestInit = {}) => {
      const accept = new Headers(init.headers).get('accept') ?? '';
      calls.push(`${url} ${accept} ${init.redirect ?? ''}`.trim());
      if (url.includes('/instances?')) {
        return Response.json(url.includes('offset=0') ? instances.map((i) => ({ '00080018': { Value: [i.sop] } })) : []);
      }
      if (url === `http://archive/studies/${STUDY}/series/${SERIES}`) return Response.json({ detail: 'too large' }, { status: 413 });
      const sop = url.split('/').at(-1)!;
      // The first instance is above the limit: a redirect to its object, relative as the local engine makes it.
      if (sop === instances[0]!.sop) {
        return new Response(null, { status: 303, headers: { Location: `/_transfer/objects/${sop}?signature=s` } });
      }
      return new Response(instances.find((i) => i.sop === sop)!.bytes, { headers: { 'Content-Type': 'application/dicom' } });
    }) as unknown as typeof globalThis.fetch;
    const objectCalls: { url: string; authorization: string | null }[] = [];
    const plainFetch = (async (url: string, init: RequestInit = {}) => {
      objectCalls.push({ url, authorization: new Headers(init.headers).get('authorization') });
      return new Response(instances[0]!.bytes, { headers: { 'Content-Length': String(instances[0]!.bytes.length) } });
    }) as unknown as typeof globalThis.fetch;

    const summary = await retrieveStudy({
      baseUrl: 'http://archive',
      fetch,
      plainFetch,
      studyInstanceUID: STUDY,
      seriesInstanceUID: SERIES,
      outDir: dir,
      progress: NO_PROGRESS,
    });

    expect(summary).toEqual({ written: 3, present: 0, bytes: instances.reduce((n, i) => n + i.bytes.length, 0), failures: [] });
    for (const i of instances) {
      expect(Buffer.compare(await readFile(instancePath(dir, STUDY, SERIES, i.sop)), Buffer.from(i.bytes))).toBe(0);
    }
    expect(calls.filter((c) => c.includes('/instances/'))).toEqual(
      instances.map((i) => `${instanceUrl(i.sop)} application/dicom; transfer-syntax=* manual`),
    );
    expect(objectCalls).toEqual([{ url: `http://archive/_transfer/objects/${instances[0]!.sop}?signature=s`, authorization: null }]);
    expect((await readdir(path.join(dir, STUDY, SERIES))).sort()).toEqual(instances.map((i) => `${i.sop}.dcm`).sort());
  });

  it('takes a multipart/related answer to the single part request (an archive without single part) as it comes', async () => {
    const fetch = (async () =>
      new Response(Readable.toWeb(Readable.from(body('b1', [instances[1]!]))) as ReadableStream, {
        headers: { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=b1' },
      })) as unknown as typeof globalThis.fetch;
    const bytes = await retrieveInstanceFile(
      { baseUrl: 'http://archive', fetch, studyInstanceUID: STUDY, outDir: dir, progress: NO_PROGRESS },
      { study: STUDY, series: SERIES, sop: instances[1]!.sop },
    );
    expect(bytes).toBe(instances[1]!.bytes.length);
    expect(Buffer.compare(await readFile(instancePath(dir, STUDY, SERIES, instances[1]!.sop)), Buffer.from(instances[1]!.bytes))).toBe(0);
  });

  it('fails the instance, writing nothing, when the object ends short of its Content-Length', async () => {
    const fetch = (async () =>
      new Response(instances[0]!.bytes.subarray(0, 100), { headers: { 'Content-Length': '5000' } })) as unknown as typeof globalThis.fetch;
    const error = await retrieveInstanceFile(
      { baseUrl: 'http://archive', fetch, studyInstanceUID: STUDY, outDir: dir, progress: NO_PROGRESS },
      { study: STUDY, series: SERIES, sop: instances[0]!.sop },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetrieveError);
    expect((error as Error).message).toMatch(/100 of 5000 bytes arrived/);
    await expect(readdir(path.join(dir, STUDY, SERIES))).resolves.toEqual([]);
  });
});
