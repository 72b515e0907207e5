/**
 * e2e: the newcomer's SEND-RS flow with the command line (lib/cli/send.ts run as a child process):
 * two embedded archives, a study stored in A, B registered in A's destinations.json, then
 * `npm run send -- --origin A --destination B --study UID`: exit code 0, the final status and counters
 * printed, and every instance in B byte-identical to what A stored.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStudy } from '../support/dicom-factory';
import { DICOM_JSON, multipartParts, stow, tempArchive } from '../support/http';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Study = ReturnType<typeof makeStudy>;

const TSX = path.resolve('node_modules/.bin/tsx');
const CLI = path.resolve('lib/cli/send.ts');
/** Bound on one CLI run (within vitest's 30 s testTimeout); --max-wait bounds the polling inside it. */
const RUN_TIMEOUT_MS = 25_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(TSX, [CLI, ...args, '--max-wait', '20'], { timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

let a: Archive;
let b: Archive;
const first = makeStudy({ series: 2, instancesPerSeries: 3, patientID: `CLI-${Date.now()}` });
const second = makeStudy({ series: 1, instancesPerSeries: 2, patientID: `CLI-JSON-${Date.now()}` });

beforeAll(async () => {
  b = await tempArchive();
  // Send answers at once (202, the workflow just started), so the CLI polls; Retry-After 1 s keeps it short.
  a = await tempArchive({ env: { SEND_WAIT_MS: '1', SEND_RETRY_AFTER_SECONDS: '1', SEND_BATCH_SIZE: '2' } });
  await writeFile(path.join(a.dataDir, 'destinations.json'), JSON.stringify({ destinations: [{ url: b.url, auth: { type: 'none' } }] }));
  for (const study of [first, second])
    expect(
      (
        await stow(
          a.url,
          study.instances.map((i) => i.bytes),
        )
      ).status,
    ).toBe(200);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** Every instance of the study, retrieved from B as stored, equals the bytes stored in A. */
async function expectByteIdenticalInB(study: Study): Promise<void> {
  const found = await fetch(`${b.url}/studies/${study.studyInstanceUID}/instances`, { headers: { Accept: DICOM_JSON } });
  expect(found.status).toBe(200);
  expect(((await found.json()) as unknown[]).length).toBe(study.instances.length);
  for (const i of study.instances) {
    const r = await fetch(`${b.url}/studies/${study.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}`, {
      headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    });
    expect(r.status).toBe(200);
    const [part] = await multipartParts(r);
    expect(Buffer.compare(Buffer.from(part!.body), Buffer.from(i.bytes))).toBe(0);
  }
}

describe('npm run send (lib/cli/send.ts) between two embedded archives', () => {
  it('[studies.send-ua.200] [studies.send-ua.202] sends a study: exit 0, final status and counters printed, B holds every instance byte-identical', async () => {
    const run = await runCli(['--origin', a.url, '--destination', b.url, '--study', first.studyInstanceUID]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Send [0-9.]+: 0000 Success: all sub-operations completed\n/);
    expect(run.stdout).toContain('completed 6  warning 0  failed 0  remaining 0');
    // Progress goes to stderr, one line per module when not on a terminal: the Send's 202, then the
    // Check Send Result polls up to the final 200, which shows all done.
    const progress = run.stderr.trim().split('\n');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const done = 'completed 6  warning 0  failed 0  remaining 0  (6/6)';
    expect(progress[0]).not.toBe(done);
    expect(progress.at(-1)).toBe(done);
    await expectByteIdenticalInB(first);
  });

  it('--json prints the final Send Request Response Module as DICOM JSON', async () => {
    const run = await runCli(['--origin', a.url, '--destination', b.url, '--study', second.studyInstanceUID, '--json', '--no-progress']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([
      {
        '00000900': { vr: 'US', Value: [0x0000] },
        '00001021': { vr: 'US', Value: [2] },
        '00001022': { vr: 'US', Value: [0] },
        '00001023': { vr: 'US', Value: [0] },
      },
    ]);
    await expectByteIdenticalInB(second);
  });

  it('[studies.send-ua.400] an unregistered destination: exit 1, the Status Report on stderr', async () => {
    const other = 'http://127.0.0.1:9/dicomweb';
    const run = await runCli(['--origin', a.url, '--destination', other, '--study', first.studyInstanceUID, '--no-progress']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('the origin server answered 400');
    expect(run.stderr).toContain('the destination is not a registered destination of this archive');
  });
});
