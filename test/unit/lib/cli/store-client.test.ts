import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMediaType, parseMultipartRelated } from '../../../../lambdas/dicom/multipart';
import { Tag } from '../../../../lambdas/dicom/tags';
import { NO_PROGRESS } from '../../../../lib/cli/bulk-progress';
import type { InstanceFile } from '../../../../lib/cli/store-files';
import { storeInstances, type StoreRunOptions } from '../../../../lib/cli/store-client';

let dir: string;
let files: InstanceFile[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'store-client-'));
  files = [];
  for (const n of [1, 2, 3]) {
    const file = path.join(dir, `IM${n}`);
    await writeFile(file, `instance ${n}`);
    files.push({ path: file, size: 10, studyInstanceUID: '2.25.1', seriesInstanceUID: '2.25.2', sopInstanceUID: `2.25.3${n}` });
  }
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const item = (sop: string, extra: Record<string, unknown> = {}) => ({
  [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [sop] },
  ...Object.fromEntries(Object.entries(extra).map(([tag, v]) => [tag, { vr: 'US', Value: [v] }])),
});

function options(fakeFetch: StoreRunOptions['fetch'], more: Partial<StoreRunOptions> = {}): StoreRunOptions {
  return {
    baseUrl: 'http://archive',
    fetch: fakeFetch,
    maxRequestBytes: 1_000_000,
    concurrency: 2,
    skipExisting: true,
    progress: NO_PROGRESS,
    sleep: async () => {},
    ...more,
  };
}

describe('storeInstances', () => {
  it('skips what one search per study finds, and reads each outcome of the Store response by SOP Instance UID', async () => {
    const calls: string[] = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (!init?.method) {
        const page = url.includes('offset=0')
          ? [{ [Tag.SeriesInstanceUID]: { Value: ['2.25.2'] }, [Tag.SOPInstanceUID]: { Value: ['2.25.31'] } }]
          : [];
        return Response.json(page);
      }
      const boundary = parseMediaType(new Headers(init.headers).get('content-type')!).params.boundary!;
      expect(parseMultipartRelated(init.body as Uint8Array, boundary)).toHaveLength(2);
      return Response.json(
        {
          [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [item('2.25.32', { [Tag.WarningReason]: 0xb000 })] },
          [Tag.FailedSOPSequence]: { vr: 'SQ', Value: [item('2.25.33', { [Tag.FailureReason]: 0xa900 })] },
        },
        { status: 202 },
      );
    }) as typeof globalThis.fetch;
    const summary = await storeInstances(files, [], options(fakeFetch));
    expect(calls).toEqual([
      'GET http://archive/studies/2.25.1/instances?includefield=0020000E&limit=1000&offset=0',
      'GET http://archive/studies/2.25.1/instances?includefield=0020000E&limit=1000&offset=1',
      'POST http://archive/studies',
    ]);
    expect(summary).toMatchObject({
      stored: 1,
      skipped: 1,
      requests: 1,
      warnings: [{ sopInstanceUID: '2.25.32', warning: '0xB000 Coercion Of Data Elements' }],
      failed: [{ sopInstanceUID: '2.25.33', reason: '0xA900 Data Set Does Not Match SOP Class', failureReason: 0xa900 }],
    });
  });

  it('retries a busy archive, then fails every instance of a request with its Status Report', async () => {
    let posts = 0;
    const fakeFetch = (async () => {
      posts++;
      return Response.json({ detail: 'the archive is busy' }, { status: 503 });
    }) as unknown as typeof globalThis.fetch;
    const summary = await storeInstances(files, [], options(fakeFetch, { skipExisting: false }));
    expect(posts).toBe(3);
    expect(summary.stored).toBe(0);
    expect(summary.failed.map((f) => f.reason)).toEqual(Array(3).fill('HTTP 503: the archive is busy'));
  });

  it('fails an instance the Store response does not mention, never counting it stored', async () => {
    const fakeFetch = (async () =>
      Response.json({
        [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [item('2.25.31'), item('2.25.32')] },
      })) as unknown as typeof globalThis.fetch;
    const summary = await storeInstances(files, [], options(fakeFetch, { skipExisting: false }));
    expect(summary.stored).toBe(2);
    expect(summary.failed).toEqual([{ path: files[2]!.path, sopInstanceUID: '2.25.33', reason: 'the Store response does not mention it' }]);
  });
});

describe('storeInstances against a lower limit than --max-request-bytes', () => {
  it('splits a request the archive answers 413 until each part fits, and uploads an instance too large alone', async () => {
    const sizes: number[] = [];
    const uploads: string[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      // The upload path (docs/uploads.md), one part: IM3 goes there.
      if (url !== 'http://archive/studies') {
        uploads.push(`${init.method} ${url}`);
        if (url === 'http://archive/uploads') {
          const part = { partNumber: 1, offset: 0, length: 10, received: false, url: '/_transfer/p1' };
          const upload = { uploadId: 'u', state: 'UPLOADING', size: 10, partSize: 10, parts: [part], complete: '/uploads/u/complete' };
          return Response.json(upload, { status: 201, headers: { Location: '/uploads/u' } });
        }
        if (init.method === 'PUT') return new Response(null, { headers: { ETag: '"1"' } });
        return Response.json({ [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [item('2.25.33')] } });
      }
      const body = init.body as Uint8Array;
      const boundary = parseMediaType(new Headers(init.headers).get('content-type')!).params.boundary!;
      const parts = parseMultipartRelated(body, boundary);
      sizes.push(parts.length);
      // The archive takes one instance per request, and refuses IM3 outright.
      if (parts.length > 1 || Buffer.from(parts[0]!.body).toString() === 'instance 3')
        return Response.json({ detail: 'the request body exceeds 100 bytes' }, { status: 413 });
      const sop = `2.25.3${Buffer.from(parts[0]!.body).toString().slice(-1)}`;
      return Response.json({ [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [item(sop)] } });
    }) as unknown as typeof globalThis.fetch;
    const summary = await storeInstances(files, [], options(fakeFetch, { skipExisting: false, concurrency: 1 }));
    expect(sizes).toEqual([3, 2, 1, 1, 1]);
    expect(uploads).toEqual(['POST http://archive/uploads', 'PUT http://archive/_transfer/p1', 'POST http://archive/uploads/u/complete']);
    expect(summary.stored).toBe(3);
    expect(summary.failed).toEqual([]);
  });

  it('reports an instance the archive refuses even through the upload path, with its Status Report', async () => {
    const fakeFetch = (async (url: string) =>
      url === 'http://archive/uploads'
        ? Response.json({ detail: 'no such resource' }, { status: 404 })
        : Response.json({ detail: 'the request body exceeds 5 bytes' }, { status: 413 })) as unknown as typeof globalThis.fetch;
    const summary = await storeInstances(files.slice(0, 1), [], options(fakeFetch, { skipExisting: false, maxRequestBytes: 100 }));
    expect(summary.failed).toEqual([
      { path: files[0]!.path, sopInstanceUID: '2.25.31', reason: 'the archive refused the upload: HTTP 404: no such resource' },
    ]);
  });
});

describe('storeInstances when the archive does not let it search', () => {
  it('says so and sends every instance, for the Store to judge', async () => {
    const notices: string[] = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      if (!init?.method) return Response.json({ detail: 'insufficient scope' }, { status: 403 });
      return Response.json({ [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: files.map((f) => item(f.sopInstanceUID)) } });
    }) as unknown as typeof globalThis.fetch;
    const progress = { ...NO_PROGRESS, notice: (m: string) => void notices.push(m) };
    const summary = await storeInstances(files, [], options(fakeFetch, { progress }));
    expect(summary).toMatchObject({ stored: 3, skipped: 0, failed: [] });
    expect(notices).toEqual([
      'cannot tell what the archive holds (searching the instances of study 2.25.1 failed: HTTP 403): sending every instance',
    ]);
  });
});

describe('storeInstances when the archive runs out of resources', () => {
  it('sends the instances refused with A700 once more, and counts them stored when they are', async () => {
    let posts = 0;
    const fakeFetch = (async () => {
      posts++;
      if (posts === 1)
        return Response.json(
          {
            [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [item('2.25.31')] },
            [Tag.FailedSOPSequence]: {
              vr: 'SQ',
              Value: [item('2.25.32', { [Tag.FailureReason]: 0xa700 }), item('2.25.33', { [Tag.FailureReason]: 0xa700 })],
            },
          },
          { status: 202 },
        );
      return Response.json({
        [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [item('2.25.32')] },
        [Tag.FailedSOPSequence]: { vr: 'SQ', Value: [item('2.25.33', { [Tag.FailureReason]: 0xa700 })] },
      });
    }) as unknown as typeof globalThis.fetch;
    const summary = await storeInstances(files, [], options(fakeFetch, { skipExisting: false }));
    expect(posts).toBe(2);
    expect(summary.stored).toBe(2);
    expect(summary.failed).toEqual([
      { path: files[2]!.path, sopInstanceUID: '2.25.33', reason: '0xA700 Refused: Out of Resources', failureReason: 0xa700 },
    ]);
  });
});
