/**
 * e2e: `npm run store` and `npm run retrieve` (lib/cli/store.ts, lib/cli/retrieve.ts run as child
 * processes) against an embedded archive with small request and response limits: a folder of a few
 * hundred small instances, a non-DICOM file, a raw data set, a truncated file, a DICOMDIR folder and a
 * ~12 MB multi-frame instance above both limits (stored through the upload path, retrieved by the
 * redirect to its object) ->
 * the summary's counts and exit code; a second run skips everything; the study retrieved back is
 * byte-identical to the files stored, and a second retrieve fetches only what DIR lacks.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../lambdas/dicom/part10';
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { makeInstance, makeStudy } from '../support/dicom-factory';
import { tempArchive } from '../support/http';

const TSX = path.resolve('node_modules/.bin/tsx');
const LIMIT = 200_000;
/** The response limit: the small series fit it, the large instance's series does not. */
const RESPONSE_LIMIT = 8_000_000;
const RUN_TIMEOUT_MS = 60_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(cli: 'store' | 'retrieve', args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [path.resolve(`lib/cli/${cli}.ts`), ...args], { timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

let archive: Awaited<ReturnType<typeof tempArchive>>;
let root: string;
const study = makeStudy({ series: 3, instancesPerSeries: 100, patientID: `BULK-${Date.now()}` });
const dicomdirStudy = makeStudy({ series: 1, instancesPerSeries: 3, patientID: `BULK-DIR-${Date.now()}` });
// A realistic multi-frame instance: 24 frames of 512 x 512 x 16 bits, ~12.6 MB, in a series of its own.
const big = makeInstance({ studyInstanceUID: study.studyInstanceUID, rows: 512, columns: 512, bitsAllocated: 16, numberOfFrames: 24 });
const bigUids = readPart10(big);

beforeAll(async () => {
  archive = await tempArchive({ env: { MAX_REQUEST_BYTES: String(LIMIT), MAX_RESPONSE_BYTES: String(RESPONSE_LIMIT) } });
  root = await mkdtemp(path.join(os.tmpdir(), 'bulk-cli-e2e-'));
  const plain = path.join(root, 'plain');
  for (const [i, instance] of study.instances.entries()) {
    const folder = path.join(plain, `series-${instance.seriesInstanceUID.slice(-6)}`);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `IM${i}`), instance.bytes);
  }
  await writeFile(path.join(plain, 'big.dcm'), big);
  // A Part 10 file cut inside its File Meta Information: sent alone, for the Store to judge.
  await writeFile(path.join(plain, 'cut.dcm'), Buffer.from(makeInstance({ studyInstanceUID: study.studyInstanceUID })).subarray(0, 150));
  await writeFile(path.join(plain, 'README.txt'), 'not DICOM at all, but long enough to have a preamble'.repeat(5));
  // The data set alone, after the preamble, 'DICM' and the File Meta Information (group 0002).
  const part10 = Buffer.from(study.instances[0]!.bytes);
  const metaEnd = 132 + 12 + part10.readUInt32LE(140);
  await writeFile(path.join(plain, 'raw-data-set'), part10.subarray(metaEnd));
  // A DICOMDIR folder: IM0 and IM1 referenced, EXTRA not (so never sent).
  const media = path.join(root, 'media');
  await mkdir(path.join(media, 'IMAGES'), { recursive: true });
  await writeFile(path.join(media, 'IMAGES', 'IM0'), dicomdirStudy.instances[0]!.bytes);
  await writeFile(path.join(media, 'IMAGES', 'IM1'), dicomdirStudy.instances[1]!.bytes);
  await writeFile(path.join(media, 'IMAGES', 'EXTRA'), dicomdirStudy.instances[2]!.bytes);
  const record = (id: string) => ({ '00041430': { vr: 'CS', Value: ['IMAGE'] }, '00041500': { vr: 'CS', Value: ['IMAGES', id] } });
  await writeFile(
    path.join(media, 'DICOMDIR'),
    newPart10({ '00041130': { vr: 'CS', Value: ['BULK'] }, '00041220': { vr: 'SQ', Value: [record('IM0'), record('IM1')] } }),
  );
}, 60_000);

afterAll(async () => {
  await archive?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const storeArgs = () => [
  '--upload-journal',
  path.join(root, 'uploads.json'),
  '--url',
  archive.url,
  '--max-request-bytes',
  String(LIMIT),
  '--json',
  path.join(root, 'plain'),
  path.join(root, 'media'),
];

describe('npm run store, then npm run retrieve', () => {
  it('stores the folders packed to the limit, the instance above it through the upload path, and lists the files not sent', async () => {
    const run = await runCli('store', storeArgs());
    const summary = JSON.parse(run.stdout);
    expect(summary.stored, run.stdout).toBe(study.instances.length + 3);
    expect(summary.skipped).toBe(0);
    const failed = Object.fromEntries(summary.failed.map((f: { path: string }) => [path.basename(f.path), f]));
    expect(Object.keys(failed).sort()).toEqual(['cut.dcm']);
    expect(failed['cut.dcm']).toMatchObject({ failureReason: 0xc000, reason: '0xC000 Cannot Understand' });
    const notes = Object.fromEntries(summary.notes.map((n: { path: string; note: string }) => [path.basename(n.path), n.note]));
    expect(Object.keys(notes).sort()).toEqual(['DICOMDIR', 'README.txt', 'raw-data-set']);
    expect(notes['raw-data-set']).toMatch(/without the Part 10 preamble/);
    expect(notes['README.txt']).toMatch(/not DICOM/);
    // A few hundred ~1 KB instances within 200 kB requests: a handful of requests, not one per file.
    expect(summary.requests).toBeGreaterThan(1);
    expect(summary.requests).toBeLessThan(20);
    expect(run.code).toBe(1);
    // The upload is over: no journal left.
    await expect(readFile(path.join(root, 'uploads.json'))).rejects.toThrow(/ENOENT/);

    const search = await fetch(`${archive.url}/studies/${dicomdirStudy.studyInstanceUID}/instances`);
    expect(((await search.json()) as unknown[]).length).toBe(2);
  }, 90_000);

  it('skips everything the archive already holds on a second run', async () => {
    const run = await runCli('store', storeArgs());
    const summary = JSON.parse(run.stdout);
    // cut.dcm has no UIDs to look up: it is sent again, alone.
    expect(summary).toMatchObject({ stored: 0, skipped: study.instances.length + 3, requests: 1 });
    expect(summary.failed.map((f: { path: string }) => path.basename(f.path)).sort()).toEqual(['cut.dcm']);
    expect(run.code).toBe(1);
  }, 90_000);

  it('retrieves the study back byte-identical, and nothing again on a second run', async () => {
    const out = path.join(root, 'out');
    const run = await runCli('retrieve', ['--url', archive.url, '--study', study.studyInstanceUID, '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ written: study.instances.length + 1, present: 0, failures: [] });
    for (const instance of [...study.instances, { ...bigUids, bytes: big }]) {
      const file = path.join(out, study.studyInstanceUID, instance.seriesInstanceUID, `${instance.sopInstanceUID}.dcm`);
      expect(Buffer.compare(await readFile(file), Buffer.from(instance.bytes))).toBe(0);
    }
    const series = await readdir(path.join(out, study.studyInstanceUID));
    expect(series).toHaveLength(4);

    const again = await runCli('retrieve', ['--url', archive.url, '--study', study.studyInstanceUID, '--out', out, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ written: 0, present: study.instances.length + 1 });
  }, 90_000);

  it('fetches again only what is missing from DIR, and one series with --series', async () => {
    const out = path.join(root, 'out');
    const [gone, other] = [study.instances[5]!, study.instances[250]!];
    await rm(path.join(out, study.studyInstanceUID, gone.seriesInstanceUID, `${gone.sopInstanceUID}.dcm`));
    const run = await runCli('retrieve', ['--url', archive.url, '--study', study.studyInstanceUID, '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ written: 1, present: study.instances.length });
    const restored = await readFile(path.join(out, study.studyInstanceUID, gone.seriesInstanceUID, `${gone.sopInstanceUID}.dcm`));
    expect(Buffer.compare(restored, Buffer.from(gone.bytes))).toBe(0);

    const one = path.join(root, 'one-series');
    const series = await runCli('retrieve', [
      '--url',
      archive.url,
      '--study',
      study.studyInstanceUID,
      '--series',
      other.seriesInstanceUID,
      '--out',
      one,
      '--json',
    ]);
    expect(series.code, series.stderr).toBe(0);
    expect(await readdir(path.join(one, study.studyInstanceUID))).toEqual([other.seriesInstanceUID]);
    expect(await readdir(path.join(one, study.studyInstanceUID, other.seriesInstanceUID))).toHaveLength(100);
  }, 90_000);

  it('answers the large instance as single part with a 303 to its object, served without credentials, and 413 as multipart', async () => {
    const url = `${archive.url}/studies/${study.studyInstanceUID}/series/${bigUids.seriesInstanceUID}/instances/${bigUids.sopInstanceUID}`;
    const redirect = await fetch(url, { headers: { Accept: 'application/dicom; transfer-syntax=*' }, redirect: 'manual' });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${archive.url}/_transfer/objects/`)).toBe(true);
    const object = await fetch(location);
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toMatch(/^application\/dicom/);
    expect(Buffer.compare(Buffer.from(await object.arrayBuffer()), Buffer.from(big))).toBe(0);

    const multipart = await fetch(url, { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
    expect(multipart.status).toBe(413);
    expect(await multipart.text()).toMatch(/303 See Other/);

    // A small instance: the instance itself, or the redirect when the client prefers it.
    const small = study.instances[0]!;
    const smallUrl = `${archive.url}/studies/${study.studyInstanceUID}/series/${small.seriesInstanceUID}/instances/${small.sopInstanceUID}`;
    const direct = await fetch(smallUrl, { headers: { Accept: 'application/dicom; transfer-syntax=*' } });
    expect(direct.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await direct.arrayBuffer()), Buffer.from(small.bytes))).toBe(0);
    const preferred = await fetch(smallUrl, {
      headers: { Accept: 'application/dicom; transfer-syntax=*', Prefer: 'return=redirect' },
      redirect: 'manual',
    });
    expect(preferred.status).toBe(303);
    expect(preferred.headers.get('preference-applied')).toBe('return=redirect');
  }, 90_000);

  it('fails with exit code 1 for a study the archive does not hold', async () => {
    const run = await runCli('retrieve', ['--url', archive.url, '--study', '2.25.1', '--out', path.join(root, 'none')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no series/);
  }, 90_000);
});
