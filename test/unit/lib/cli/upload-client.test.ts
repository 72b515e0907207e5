/**
 * The CLI's upload path (lib/cli/upload-client.ts) against a fake archive implementing the upload
 * protocol (docs/uploads.md) as a fetch function: parts lost, a part sent twice, a completion that
 * finds a part missing (409) then gets it, a completion whose connection drops (then polled), an
 * archive still storing, and a run cut off then resumed from the journal.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Tag } from '../../../../lambdas/dicom/tags';
import { uploadInstance, type Upload, type UploadOptions } from '../../../../lib/cli/upload-client';
import { NO_JOURNAL, openUploadJournal } from '../../../../lib/cli/upload-journal';

const BASE = 'http://archive';
const PART_SIZE = 1000;
const SOP = '2.25.99';

interface Faults {
  /** Parts whose first PUT fails before the archive has it (a dropped connection). */
  lostOnce?: Set<number>;
  /** Parts whose first PUT is received but whose answer is lost: the client sends them twice. */
  answerLostOnce?: Set<number>;
  /** Parts every PUT of which fails (503): the run cannot finish. */
  alwaysBusy?: Set<number>;
  /** Parts the archive has lost when first completed: 409, the upload stays open. */
  missingAtFirstComplete?: Set<number>;
  /** The first completion stores, but its connection drops before the answer. */
  completeDropped?: boolean;
  /** GETs answering STORING before STORED, after a completion answered 503. */
  storingPolls?: number;
}

/** The archive's side of the protocol, in memory: one upload at a time, as its fetch. */
class FakeArchive {
  readonly calls: string[] = [];
  readonly parts = new Map<number, Buffer>();
  readonly authorizedPuts: string[] = [];
  state: Upload['state'] = 'UPLOADING';
  size = 0;
  stored?: Buffer;
  private completes = 0;
  private storingLeft = 0;
  constructor(readonly faults: Faults = {}) {}

  private partCount = () => Math.ceil(this.size / PART_SIZE);
  private partLength = (n: number) => Math.min(PART_SIZE, this.size - (n - 1) * PART_SIZE);

  private upload(): Upload {
    const parts = Array.from({ length: this.partCount() }, (_, i) => {
      const partNumber = i + 1;
      const received = this.parts.get(partNumber)?.length === this.partLength(partNumber);
      return {
        partNumber,
        offset: i * PART_SIZE,
        length: this.partLength(partNumber),
        received,
        ...(!received && this.state === 'UPLOADING' && { url: `/_transfer/uploads/m1/parts/${partNumber}?signature=s` }),
      };
    });
    const storedAnswer = { status: 200, response: module() };
    return {
      uploadId: 'u1',
      state: this.state,
      size: this.size,
      partSize: PART_SIZE,
      parts,
      complete: `${BASE}/uploads/u1/complete`,
      ...(this.state === 'STORED' && { result: storedAnswer }),
    };
  }

  readonly fetch = (async (input: string | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = init.method ?? 'GET';
    const route = `${method} ${url.replace(BASE, '').replace(/\?.*/, '')}`;
    this.calls.push(route);
    if (route === 'POST /uploads') {
      this.size = (JSON.parse(String(init.body)) as { size: number }).size;
      return Response.json(this.upload(), { status: 201, headers: { Location: `${BASE}/uploads/u1` } });
    }
    if (route === 'GET /uploads/u1') {
      if (this.state === 'STORING' && this.storingLeft-- <= 0) this.store();
      return Response.json(this.upload());
    }
    const put = /^PUT \/_transfer\/uploads\/m1\/parts\/(\d+)$/.exec(route);
    if (put) {
      const n = Number(put[1]);
      if (new Headers(init.headers).has('authorization')) this.authorizedPuts.push(route);
      if (this.faults.alwaysBusy?.has(n)) return new Response('busy', { status: 503 });
      if (this.faults.lostOnce?.delete(n)) throw new TypeError('fetch failed');
      const body = Buffer.from(await new Response(init.body).arrayBuffer());
      if (body.length !== Number(new Headers(init.headers).get('content-length'))) throw new Error('Content-Length is not the body');
      if (body.length !== this.partLength(n)) return new Response('wrong length', { status: 400 });
      this.parts.set(n, body);
      if (this.faults.answerLostOnce?.delete(n)) throw new TypeError('fetch failed');
      return new Response(null, { status: 200, headers: { ETag: `"${n}"` } });
    }
    if (route === 'POST /uploads/u1/complete') {
      this.completes++;
      if (this.completes === 1 && this.faults.missingAtFirstComplete)
        for (const n of this.faults.missingAtFirstComplete) this.parts.delete(n);
      const missing = this.upload().parts.filter((p) => !p.received);
      if (missing.length > 0) {
        return Response.json(
          { status: 409, title: 'Conflict', detail: `parts missing: ${missing.map((p) => p.partNumber).join(',')}` },
          { status: 409 },
        );
      }
      if (this.faults.storingPolls !== undefined && this.completes === 1) {
        this.state = 'STORING';
        this.storingLeft = this.faults.storingPolls;
        return new Response('busy', { status: 503 });
      }
      this.store();
      if (this.faults.completeDropped && this.completes === 1) throw new TypeError('fetch failed');
      return Response.json(module(), { status: 200 });
    }
    return new Response('no such route', { status: 404 });
  }) as typeof fetch;

  private store() {
    this.stored = Buffer.concat(Array.from({ length: this.partCount() }, (_, i) => this.parts.get(i + 1)!));
    this.state = 'STORED';
  }
}

const module = () => ({
  [Tag.ReferencedSOPSequence]: { vr: 'SQ', Value: [{ [Tag.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [SOP] } }] },
});

let dir: string;
let file: { path: string; size: number };
let bytes: Buffer;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'upload-client-'));
  bytes = randomBytes(4500);
  file = { path: path.join(dir, 'large.dcm'), size: bytes.length };
  await writeFile(file.path, bytes);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(archive: FakeArchive, more: Partial<UploadOptions> = {}): UploadOptions & { sent: number[] } {
  const sent: number[] = [];
  const authorized = ((url: string, init: RequestInit = {}) =>
    archive.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: 'Bearer t' } })) as typeof fetch;
  return {
    baseUrl: BASE,
    fetch: authorized,
    partFetch: archive.fetch,
    partConcurrency: 3,
    journal: NO_JOURNAL,
    onPartSent: (n) => sent.push(n),
    sleep: async () => {},
    sent,
    ...more,
  };
}

const puts = (archive: FakeArchive) => archive.calls.filter((c) => c.startsWith('PUT'));

describe('uploadInstance', () => {
  it('creates the upload, sends the parts without Authorization, completes, and answers the Store module', async () => {
    const archive = new FakeArchive();
    const opts = options(archive);

    const answer = await uploadInstance(file, opts);

    expect(answer).toEqual({ status: 200, response: module() });
    expect(archive.stored?.equals(bytes)).toBe(true);
    expect(puts(archive)).toHaveLength(5);
    expect(archive.authorizedPuts).toEqual([]);
    expect(opts.sent.reduce((a, b) => a + b, 0)).toBe(4500);
    expect(archive.calls[0]).toBe('POST /uploads');
    expect(archive.calls.at(-1)).toBe('POST /uploads/u1/complete');
  });

  it('retries a part whose connection dropped, and one received whose answer was lost (sent twice)', async () => {
    const archive = new FakeArchive({ lostOnce: new Set([2]), answerLostOnce: new Set([4]) });
    const answer = await uploadInstance(file, options(archive));
    expect(answer).toMatchObject({ status: 200 });
    expect(archive.stored?.equals(bytes)).toBe(true);
    expect(puts(archive).filter((c) => c.endsWith('/2'))).toHaveLength(2);
    expect(puts(archive).filter((c) => c.endsWith('/4'))).toHaveLength(2);
  });

  it('sends again the part a completion finds missing (409), then completes', async () => {
    const archive = new FakeArchive({ missingAtFirstComplete: new Set([3]) });
    const answer = await uploadInstance(file, options(archive));
    expect(answer).toMatchObject({ status: 200 });
    expect(archive.stored?.equals(bytes)).toBe(true);
    const after = archive.calls.slice(archive.calls.indexOf('POST /uploads/u1/complete'));
    expect(after).toEqual([
      'POST /uploads/u1/complete',
      'GET /uploads/u1',
      'PUT /_transfer/uploads/m1/parts/3',
      'POST /uploads/u1/complete',
    ]);
  });

  it('polls the upload when the completion drops, answering the recorded Store result without completing again', async () => {
    const archive = new FakeArchive({ completeDropped: true });
    const answer = await uploadInstance(file, options(archive));
    expect(answer).toEqual({ status: 200, response: module() });
    expect(archive.calls.slice(-2)).toEqual(['POST /uploads/u1/complete', 'GET /uploads/u1']);
  });

  it('polls an upload the archive is still storing until it is stored', async () => {
    const archive = new FakeArchive({ storingPolls: 3 });
    const answer = await uploadInstance(file, options(archive, { pollIntervalMs: 1 }));
    expect(answer).toMatchObject({ status: 200 });
    expect(archive.calls.filter((c) => c === 'GET /uploads/u1')).toHaveLength(4);
  });

  it('leaves an upload it cannot finish in the journal, and the next run sends only the parts missing', async () => {
    const journalFile = path.join(dir, 'uploads.json');
    const archive = new FakeArchive({ alwaysBusy: new Set([5]) });
    const first = await uploadInstance(file, options(archive, { journal: await openUploadJournal(journalFile) }));
    expect(first).toMatchObject({ failure: expect.stringMatching(/part 5 not sent after 5 tries .*run again to resume it/) });
    expect(JSON.parse(await readFile(journalFile, 'utf8'))).toEqual([
      expect.objectContaining({ baseUrl: BASE, path: file.path, size: 4500, uploadUrl: `${BASE}/uploads/u1` }),
    ]);

    archive.faults.alwaysBusy = undefined;
    archive.calls.length = 0;
    const second = await uploadInstance(file, options(archive, { journal: await openUploadJournal(journalFile) }));
    expect(second).toMatchObject({ status: 200 });
    expect(archive.stored?.equals(bytes)).toBe(true);
    expect(archive.calls).toEqual(['GET /uploads/u1', 'PUT /_transfer/uploads/m1/parts/5', 'POST /uploads/u1/complete']);
    // Over: the journal is gone.
    await expect(readFile(journalFile)).rejects.toThrow(/ENOENT/);
  });

  it('reports a size the archive refuses (413) with its Status Report, not resumable', async () => {
    const refusing = (async () =>
      Response.json({ status: 413, title: 'Payload Too Large', detail: 'above 64 GiB' }, { status: 413 })) as unknown as typeof fetch;
    const answer = await uploadInstance(file, { ...options(new FakeArchive()), fetch: refusing });
    expect(answer).toEqual({ failure: 'the archive refused the upload: HTTP 413: above 64 GiB', tooLarge: true });
  });
});
