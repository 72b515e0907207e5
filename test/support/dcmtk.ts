/**
 * Debian's dcmtk as a real DIMSE peer: its tools, and a storescp on a free port of 127.0.0.1. Suites
 * that need it are skipped only where dcmtk is missing outside CI; `.ci/run` installs it.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { freePort } from './net';

export const hasDcmtk = spawnSync('echoscu', ['--version']).status === 0;

/** `describe`, or `describe.skip` where dcmtk is missing and CI is not set. */
export const dcmtkSuite = hasDcmtk || process.env.CI ? describe : describe.skip;

export interface Run {
  readonly code: number | null;
  readonly out: string;
}

/** Runs a dcmtk tool; resolves with its exit code and its stdout + stderr. */
export function dcmtk(tool: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

export interface StoreScp {
  readonly port: number;
  readonly dir: string;
  /** SOP Instance UIDs received (storescp names files <modality>.<SOP Instance UID>). */
  received(): Promise<string[]>;
  close(): Promise<void>;
}

/** A dcmtk storescp, by default accepting every transfer syntax it knows (+xa); resolves once it answers C-ECHO. */
export async function startStoreScp(aeTitle: string, extra: readonly string[] = ['+xa']): Promise<StoreScp> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), `storescp-${aeTitle}-`));
  const proc: ChildProcess = spawn('storescp', ['-aet', aeTitle, '-od', dir, ...extra, String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if ((await dcmtk('echoscu', ['-aec', aeTitle, '127.0.0.1', String(port)])).code === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    dir,
    received: async () => (await readdir(dir)).map((f) => f.replace(/^[A-Za-z]+\./, '')),
    close: async () => {
      proc.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
