/**
 * e2e: the `npm start` entry (lib/local/main.ts) as a newcomer runs it: it prints the base URL when
 * ready, serves the Studies service, stops cleanly on SIGTERM and SIGINT, and keeps the data across
 * a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInstance } from '../support/dicom-factory';
import { stow } from '../support/http';

const root = path.resolve(__dirname, '../..');
let dataDir: string;

function start(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['lib/local/main.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', DIMSE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready: ${out}`)));
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('serves on 127.0.0.1, stops cleanly on SIGTERM/SIGINT and keeps the data across restarts', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'archive-start-'));
    const patientID = `START-${Date.now()}`;

    const first = await start();
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await stow(first.url, [makeInstance({ patientID })])).status).toBe(200);
    expect(await stop(first.child, 'SIGTERM')).toBe(0);

    const second = await start();
    const found = await fetch(`${second.url}/studies?PatientID=${patientID}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toHaveLength(1);
    expect(await stop(second.child, 'SIGINT')).toBe(0);
  }, 60_000);
});
