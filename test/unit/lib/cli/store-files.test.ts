import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newPart10 } from '../../../../lambdas/dicom/part10-write';
import { fileKind, findFiles, referencedFiles } from '../../../../lib/cli/store-files';
import { makeInstance } from '../../../../test/support/dicom-factory';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'store-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const UIDS = { studyInstanceUID: '2.25.10', seriesInstanceUID: '2.25.11', sopInstanceUID: '2.25.12' };

function dicomdir(...ids: string[][]): Uint8Array {
  const records = ids.map((id) => ({ '00041430': { vr: 'CS', Value: ['IMAGE'] }, '00041500': { vr: 'CS', Value: id } }));
  return newPart10({ '00041130': { vr: 'CS', Value: ['FS'] }, '00041220': { vr: 'SQ', Value: records } });
}

/** The data set of a Part 10 file, without its preamble, 'DICM' and File Meta Information. */
function dataSetOf(part10: Uint8Array): Buffer {
  const bytes = Buffer.from(part10);
  return bytes.subarray(132 + 12 + bytes.readUInt32LE(140));
}

describe('fileKind', () => {
  it('tells a Part 10 file, a raw data set and anything else', () => {
    const part10 = makeInstance(UIDS);
    expect(fileKind(part10)).toBe('part10');
    expect(fileKind(dataSetOf(part10))).toBe('data-set');
    expect(fileKind(Buffer.from('%PDF-1.7 and then some more text'))).toBe('other');
    expect(fileKind(Buffer.alloc(0))).toBe('other');
  });
});

describe('findFiles', () => {
  it('walks folders recursively, reads the UIDs, and notes what it does not send', async () => {
    await mkdir(path.join(dir, 'a', 'b'), { recursive: true });
    await writeFile(path.join(dir, 'a', 'b', 'IM1'), makeInstance(UIDS));
    await writeFile(path.join(dir, 'a', 'notes.txt'), 'hello, this is not DICOM');
    await writeFile(path.join(dir, 'a', 'raw'), dataSetOf(makeInstance({ ...UIDS, sopInstanceUID: '2.25.13' })));
    const found = await findFiles([dir, path.join(dir, 'missing')]);
    expect(found.instances).toEqual([{ path: path.join(dir, 'a', 'b', 'IM1'), size: expect.any(Number), ...UIDS }]);
    expect(found.notes.map((n) => [path.basename(n.path), n.note])).toEqual([
      ['notes.txt', 'not DICOM: skipped'],
      ['raw', "a data set without the Part 10 preamble and 'DICM' (PS3.10 7.1): not sent"],
      ['missing', 'no such file or folder'],
    ]);
  });

  it('reads a DICOMDIR for the files it references instead of walking its folder, and never sends it', async () => {
    await mkdir(path.join(dir, 'IMAGES'));
    await writeFile(path.join(dir, 'IMAGES', 'IM1'), makeInstance(UIDS));
    await writeFile(path.join(dir, 'IMAGES', 'UNLISTED'), makeInstance({ ...UIDS, sopInstanceUID: '2.25.14' }));
    await writeFile(path.join(dir, 'DICOMDIR'), dicomdir(['IMAGES', 'IM1'], ['IMAGES', 'GONE']));
    expect(await referencedFiles(path.join(dir, 'DICOMDIR'))).toEqual([path.join(dir, 'IMAGES', 'IM1'), path.join(dir, 'IMAGES', 'GONE')]);
    const found = await findFiles([dir]);
    expect(found.instances.map((f) => f.sopInstanceUID)).toEqual(['2.25.12']);
    expect(found.notes.map((n) => [path.basename(n.path), n.note])).toEqual([
      ['DICOMDIR', 'a DICOMDIR: read for the 2 file(s) it references, never sent'],
      ['GONE', 'referenced by the DICOMDIR but missing'],
    ]);
  });

  it('recognises a DICOMDIR by its content under another name', async () => {
    await writeFile(path.join(dir, 'dir.dcm'), dicomdir(['X']));
    const found = await findFiles([dir]);
    expect(found.instances).toEqual([]);
    expect(found.notes[0]!.note).toBe('a DICOMDIR: read, never sent');
  });

  it('keeps a Part 10 file whose header it cannot read, without UIDs, for the Store to judge', async () => {
    const truncated = Buffer.from(makeInstance(UIDS)).subarray(0, 200);
    await writeFile(path.join(dir, 'cut.dcm'), truncated);
    const found = await findFiles([dir]);
    expect(found.instances).toEqual([
      { path: path.join(dir, 'cut.dcm'), size: 200, studyInstanceUID: '', seriesInstanceUID: '', sopInstanceUID: '' },
    ]);
  });
});
