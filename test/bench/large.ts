/**
 * Bench section `large` (issue 25): a folder of one ~1 GB multi-frame instance (written as a stream
 * to os.tmpdir(), never whole in memory) and a few hundred ~0.5 MB ones, stored with `npm run store`
 * into a fresh archive process on the local engine (the large one through the upload path), then
 * retrieved with `npm run retrieve` (the large one by the redirect to its object), every file compared
 * by sha256. The archive's resident set is sampled throughout: its peak growth over its size when
 * ready is the figure (target < 300 MB), with the time and MB/s of each phase.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { PIXEL_DATA_SCAN_STOP } from '../../lambdas/dicom/frames/header-scan';
import { scanPart10Header } from '../../lambdas/dicom/part10';
import { Tag } from '../../lambdas/dicom/tags';
import { newUid } from '../../lambdas/dicom/uid';
import { makeInstance, pixelFrame } from '../support/dicom-factory';
import { mb, procStatusBytes } from './common';
import type { CostRow } from './report';
import { figure } from './report';
import { PROJECT_ROOT, startArchiveProcess } from './servers';

/** 1024 x 1024 x 16-bit frames (2 MiB each): 512 of them make the 1 GiB instance. */
const FRAME_SIDE = 1024;
const FRAME_BYTES = FRAME_SIDE * FRAME_SIDE * 2;
const SMALL_BYTES = 500_000;
const SMALL_PER_SERIES = 50;
const RSS_SAMPLE_MS = 100;
const TARGET_BYTES = 300 * 1024 * 1024;

export interface LargeOptions {
  readonly log: (line: string) => void;
  /** Frames of the large instance (default 512: 1 GiB). */
  readonly frames?: number;
  /** Small instances (default 300). */
  readonly small?: number;
}

/**
 * Writes a Part 10 file of `frames` native frames of FRAME_SIDE² 16-bit pixels, a frame at a time:
 * the header of a 1 x 1 pixel instance with the same frame count, its Rows, Columns and Pixel Data
 * length made those of the large one, then the frames (pixelFrame, so they can be checked).
 */
async function writeLargeInstance(file: string, frames: number, uids: { study: string; series: string }): Promise<number> {
  const small = Buffer.from(
    makeInstance({
      studyInstanceUID: uids.study,
      seriesInstanceUID: uids.series,
      rows: 1,
      columns: 1,
      bitsAllocated: 16,
      numberOfFrames: frames,
      modality: 'MG',
    }),
  );
  const scan = scanPart10Header(small, PIXEL_DATA_SCAN_STOP)!;
  const header = Buffer.from(small.subarray(0, scan.stop.valueStart));
  for (const tag of [Tag.Rows, Tag.Columns]) header.writeUInt16LE(FRAME_SIDE, scan.elements.get(parseInt(tag, 16))!.valueStart);
  header.writeUInt32LE(frames * FRAME_BYTES, scan.stop.valueStart - 4);
  const out = createWriteStream(file);
  const write = async (bytes: Uint8Array) => {
    if (!out.write(bytes)) await once(out, 'drain');
  };
  await write(header);
  for (let f = 1; f <= frames; f++) await write(pixelFrame(f, FRAME_BYTES));
  out.end();
  await once(out, 'finish');
  return header.length + frames * FRAME_BYTES;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs a CLI of lib/cli/ to its end; its stdout, or an error with its stderr. */
function runCli(cli: 'store' | 'retrieve', args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'lib', 'cli', `${cli}.ts`), ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`npm run ${cli} exited ${code}: ${stdout.slice(-2000)} ${stderr}`)),
    );
  });
}

/** Samples a process's resident set every RSS_SAMPLE_MS; `peak()` is the highest seen (VmHWM included). */
function rssSampler(pid: number) {
  let peak = procStatusBytes(pid, 'VmRSS');
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, procStatusBytes(pid, 'VmRSS'));
    } catch {
      // the process ended
    }
  }, RSS_SAMPLE_MS);
  return {
    peak: () => Math.max(peak, procStatusBytes(pid, 'VmHWM')),
    stop: () => clearInterval(timer),
  };
}

export async function benchLarge(opts: LargeOptions): Promise<CostRow[]> {
  const { log } = opts;
  const frames = opts.frames ?? 512;
  const smallCount = opts.small ?? 300;
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-large-'));
  const archive = await startArchiveProcess();
  try {
    const input = path.join(root, 'in');
    const output = path.join(root, 'out');
    const study = newUid();
    const largeSeries = newUid();
    log(`large: writing a ${frames}-frame instance (${figure(mb(frames * FRAME_BYTES))} MB) and ${smallCount} x ~0.5 MB to ${root}`);
    await mkdir(input, { recursive: true });
    let bytes = await writeLargeInstance(path.join(input, 'large.dcm'), frames, { study, series: largeSeries });
    let series = newUid();
    for (let i = 0; i < smallCount; i++) {
      if (i % SMALL_PER_SERIES === 0) series = newUid();
      const file = makeInstance({
        studyInstanceUID: study,
        seriesInstanceUID: series,
        instanceNumber: i + 1,
        approximateBytes: SMALL_BYTES,
      });
      await writeFile(path.join(input, `IM${String(i).padStart(4, '0')}.dcm`), file);
      bytes += file.length;
    }

    const before = procStatusBytes(archive.pid, 'VmRSS');
    const sampler = rssSampler(archive.pid);
    log(`large: npm run store (archive RSS ${figure(mb(before))} MB when ready)`);
    let t0 = performance.now();
    const stored = JSON.parse(
      await runCli('store', ['--url', archive.url, '--no-progress', '--json', '--upload-journal', path.join(root, 'uploads.json'), input]),
    ) as {
      stored: number;
      failed: unknown[];
    };
    const storeSeconds = (performance.now() - t0) / 1000;
    if (stored.stored !== smallCount + 1 || stored.failed.length > 0)
      throw new Error(`npm run store: ${JSON.stringify(stored).slice(0, 500)}`);
    const afterStore = sampler.peak();

    log('large: npm run retrieve');
    t0 = performance.now();
    const retrieved = JSON.parse(
      await runCli('retrieve', ['--url', archive.url, '--no-progress', '--json', '--study', study, '--out', output]),
    ) as {
      written: number;
    };
    const retrieveSeconds = (performance.now() - t0) / 1000;
    sampler.stop();
    const peak = sampler.peak();
    if (retrieved.written !== smallCount + 1) throw new Error(`npm run retrieve wrote ${retrieved.written} of ${smallCount + 1}`);

    log('large: comparing sha256 of every file');
    const sent = new Map<string, string>();
    for (const name of await readdir(input)) sent.set(await sha256(path.join(input, name)), name);
    let identical = 0;
    for (const seriesDir of await readdir(path.join(output, study))) {
      for (const name of await readdir(path.join(output, study, seriesDir))) {
        if (sent.has(await sha256(path.join(output, study, seriesDir, name)))) identical++;
      }
    }
    if (identical !== smallCount + 1) throw new Error(`${identical} of ${smallCount + 1} files came back byte-identical`);
    const largeSize = (await stat(path.join(input, 'large.dcm'))).size;

    const phase = (what: string, seconds: number) => ({
      measure: `${what}: 1 x ${figure(largeSize / 1e9)} GB + ${smallCount} x ~0.5 MB (${figure(mb(bytes))} MB)`,
      value: `${figure(seconds)} s, ${figure(mb(bytes) / seconds)} MB/s`,
      target: '(sha256-identical)',
    });
    return [
      phase('npm run store (the large one through the upload path)', storeSeconds),
      phase('npm run retrieve (the large one by the 303 to its object)', retrieveSeconds),
      {
        measure: 'archive (npm start) peak RSS growth over both',
        value: `+${figure(mb(peak - before))} MB over ${figure(mb(before))} MB (store alone +${figure(mb(afterStore - before))} MB)`,
        target: '< 300 MB (issue 25)',
        met: peak - before < TARGET_BYTES,
      },
    ];
  } finally {
    await archive.close();
    await rm(root, { recursive: true, force: true });
  }
}
