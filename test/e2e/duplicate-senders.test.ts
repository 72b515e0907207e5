/**
 * e2e: one instance from several senders (docs/conformance-statement.md, Store and C-STORE): STOW-RS
 * and dcmtk's storescu under other AE titles, in both orders, in other File Meta Information and in
 * the other Little Endian VR encoding. The same data set succeeds on every path and the first file
 * stays byte for byte; another data set under a stored SOP Instance UID is refused (0111 / A901).
 *
 * Skipped (with a message) only when dcmtk is missing and CI is not set; `.ci/run` installs dcmtk.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { Tag } from '../../lambdas/dicom/tags';
import { TransferSyntax } from '../../lambdas/dicom/uid';
import { dataSetOf } from '../../lambdas/dimse/part10-file';
import { dcmtk, dcmtkSuite, hasDcmtk } from '../support/dcmtk';
import { makeInstance, withOtherFileMeta } from '../support/dicom-factory';
import { multipartParts, stow, tempArchive } from '../support/http';

if (!hasDcmtk && !process.env.CI) {
  console.warn('duplicate-senders e2e skipped: dcmtk is not installed (apt-get install dcmtk); CI installs it');
}

type Json = Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }>;

/** DIMSE Status values printed by storescu -d, in order. */
function statuses(out: string): number[] {
  return [...out.matchAll(/DIMSE Status\s*: 0x([0-9a-f]{4})/gi)].map((m) => parseInt(m[1]!, 16));
}

dcmtkSuite('one instance from several senders (STOW-RS, C-STORE from other AE titles)', () => {
  let archive: Awaited<ReturnType<typeof tempArchive>>;
  let work: string;
  let n = 0;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'duplicate-senders-'));
    archive = await tempArchive({ dimsePort: 0 });
  }, 60_000);

  afterAll(async () => {
    await archive?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** storescu from `aeTitle`: the DIMSE Status of each C-STORE. `-xi` re-encodes in Implicit VR Little Endian. */
  async function cStore(aeTitle: string, file: Uint8Array, extra: readonly string[] = []): Promise<number[]> {
    const name = path.join(work, `${++n}.dcm`);
    await writeFile(name, file);
    const run = await dcmtk('storescu', [
      '-d',
      '-aet',
      aeTitle,
      '-aec',
      'ARCHIVE',
      ...extra,
      '127.0.0.1',
      String(archive.dimse!.port),
      name,
    ]);
    return statuses(run.out);
  }

  /** STOW-RS of one file: the status and the SOP Instance UIDs of the Referenced and Failed SOP Sequences. */
  async function store(file: Uint8Array) {
    const r = await stow(archive.url, [file]);
    const body = (await r.json()) as Json;
    const uids = (tag: string) => (body[tag]?.Value ?? []).map((i) => i[Tag.ReferencedSOPInstanceUID]!.Value![0]);
    const reasons = (body[Tag.FailedSOPSequence]?.Value ?? []).map((i) => i[Tag.FailureReason]!.Value![0]);
    return { status: r.status, referenced: uids(Tag.ReferencedSOPSequence), reasons };
  }

  /** The stored file, as WADO-RS returns it with transfer-syntax=*. */
  async function retrieve(file: Uint8Array): Promise<Buffer> {
    const i = readPart10(file);
    const r = await fetch(`${archive.url}/studies/${i.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}`, {
      headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    expect(r.status).toBe(200);
    const [part] = await multipartParts(r);
    return Buffer.from(part!.body);
  }

  /** Another data set under the same UIDs. */
  const otherDataSet = (file: Uint8Array) => {
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = readPart10(file);
    return makeInstance({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, patientName: 'Other^Content' });
  };

  it('[studies.store.200] [dimse.cstore-scp.0000] STOW-RS, then C-STORE of the same data set from a modality, in Implicit VR: 0000, the STOW-RS file kept', async () => {
    const file = makeInstance();
    expect((await store(file)).status).toBe(200);
    expect(await cStore('MODALITY', file, ['-xi'])).toEqual([0x0000]);
    expect(await cStore('PACS2', file)).toEqual([0x0000]);
    const stored = await retrieve(file);
    expect(stored.equals(Buffer.from(file))).toBe(true);
  });

  it('[studies.store.200] [dimse.cstore-scp.0000] C-STORE from one AE title, then from another, then STOW-RS: 0000, 0000, 200 referenced; the first file kept', async () => {
    const file = makeInstance();
    expect(await cStore('MODALITY', file, ['-xi'])).toEqual([0x0000]);
    const first = await retrieve(file);
    expect(readPart10(first).transferSyntaxUID).toBe(TransferSyntax.ImplicitVRLittleEndian);
    expect(await cStore('PACS2', file)).toEqual([0x0000]);
    const again = await store(file);
    expect(again).toEqual({ status: 200, referenced: [readPart10(file).sopInstanceUID], reasons: [] });
    expect((await retrieve(file)).equals(first)).toBe(true);
  });

  it('[studies.store.200] STOW-RS twice in other File Meta Information (Implementation Version Name, Source AE Title): 200 both, the first file kept', async () => {
    const file = makeInstance();
    expect((await store(file)).status).toBe(200);
    const rewrapped = withOtherFileMeta(file, 'WORKSTATION');
    expect(Buffer.from(dataSetOf(rewrapped)).equals(Buffer.from(dataSetOf(file)))).toBe(true);
    expect(await store(rewrapped)).toEqual({ status: 200, referenced: [readPart10(file).sopInstanceUID], reasons: [] });
    expect((await retrieve(file)).equals(Buffer.from(file))).toBe(true);
  });

  it('[studies.store.reason.0111] [dimse.cstore-scp.a901] another data set under a stored SOP Instance UID: A901 over C-STORE, 0111 over STOW-RS, either first', async () => {
    const byStow = makeInstance();
    expect((await store(byStow)).status).toBe(200);
    expect(await cStore('MODALITY', otherDataSet(byStow))).toEqual([0xa901]);
    expect(await cStore('MODALITY', otherDataSet(byStow), ['-xi'])).toEqual([0xa901]);
    expect((await retrieve(byStow)).equals(Buffer.from(byStow))).toBe(true);

    const byCStore = makeInstance();
    expect(await cStore('PACS2', byCStore)).toEqual([0x0000]);
    const first = await retrieve(byCStore);
    const refused = await store(otherDataSet(byCStore));
    expect(refused).toMatchObject({ status: 409, reasons: [0x0111] });
    expect((await retrieve(byCStore)).equals(first)).toBe(true);
  });
});
