/** `npm start` (lib/local/main.ts) as a child process, the way a newcomer runs it, for e2e tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { ARCHIVE_NODE_FLAGS, ARCHIVE_START } from '../../lib/local/node-flags';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface NpmStart {
  readonly child: ChildProcess;
  /** The base URL it printed when ready. */
  readonly url: string;
  /** Sends the signal and resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts it on DATA_DIR `dataDir`, ephemeral HTTP and DIMSE ports, with `env` added; resolves when ready. */
export function startNpmStart(dataDir: string, env: Readonly<Record<string, string>> = {}): Promise<NpmStart> {
  const child = spawn(process.execPath, [...ARCHIVE_NODE_FLAGS, ARCHIVE_START], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', DIMSE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) resolve({ child, url, stop });
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready: ${out}`)));
  });
}
