/**
 * `npm run store -- [--url BASE] <files and folders...>`: stores DICOM files in an archive over
 * STOW-RS (PS3.18 10.5), packed into requests within its request limit, N at a time, skipping what it
 * already holds. Parses argv, wires the terminal, sets the exit code; the work is in ./store-files
 * and ./store-client.
 */
import { pathToFileURL } from 'node:url';
import { LAMBDA_MAX_REQUEST_BYTES } from '../../lambdas/config';
import { parseOptionsAndPositionals } from './args';
import { bulkProgress, NO_PROGRESS } from './bulk-progress';
import {
  CREDENTIAL_OPTIONS,
  CREDENTIAL_USAGE,
  credentialsFetch,
  parseCredentials,
  resolveCredentials,
  type CliCredentials,
} from './credentials';
import { findFiles } from './store-files';
import { storeInstances } from './store-client';
import { formatStoreSummary, storeExitCode } from './store-summary';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

export const STORE_USAGE = `Usage: npm run store -- [--url BASE] [options] <files and folders...>
  --url          the archive's service root (default ${DEFAULT_BASE_URL})
  --max-request-bytes N   largest Store request body (default ${LAMBDA_MAX_REQUEST_BYTES}, the archive's
                 default MAX_REQUEST_BYTES)
  --concurrency N         Store requests in flight (default 4)
  --no-skip-existing      send every instance, even those the archive already holds
  --no-progress  no progress on stderr
  --json         the summary as JSON on stdout
${CREDENTIAL_USAGE}
Folders are walked recursively; a folder with a DICOMDIR sends the files it references.
Exit code: 0 when nothing failed, 1 otherwise (or on bad usage).`;

export class UsageError extends Error {}

export interface StoreCommand {
  readonly baseUrl: string;
  readonly inputs: readonly string[];
  readonly maxRequestBytes: number;
  readonly concurrency: number;
  readonly skipExisting: boolean;
  readonly progress: boolean;
  readonly json: boolean;
  readonly auth: CliCredentials;
}

/** A positive integer option, or its default. */
export function positiveInteger(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

/** --url: an absolute http(s) URL, without a trailing slash. */
export function baseUrlOf(value: string | undefined): string {
  const url = value ?? DEFAULT_BASE_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError('--url must be an absolute http(s) URL');
  return url.replace(/\/+$/, '');
}

export function parseStoreArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): StoreCommand {
  const { values, positionals: inputs } = parseOptionsAndPositionals(
    argv,
    {
      url: { type: 'string' },
      'max-request-bytes': { type: 'string' },
      concurrency: { type: 'string' },
      'no-skip-existing': { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      json: { type: 'boolean' },
      ...CREDENTIAL_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    (message) => new UsageError(message),
  );
  if (inputs.length === 0) throw new UsageError('give the files and folders to store');
  const baseUrl = baseUrlOf(values.url);
  return {
    baseUrl,
    inputs,
    maxRequestBytes: positiveInteger(values['max-request-bytes'], 'max-request-bytes', LAMBDA_MAX_REQUEST_BYTES),
    concurrency: positiveInteger(values.concurrency, 'concurrency', 4),
    skipExisting: values['no-skip-existing'] !== true,
    progress: values['no-progress'] !== true,
    json: values.json === true,
    auth: parseCredentials(values, env, baseUrl, (message) => new UsageError(message)),
  };
}

export interface Terminal {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

/** Runs the command; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: Terminal,
  deps: { readonly fetch?: typeof fetch; readonly env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${STORE_USAGE}\n`);
    return 0;
  }
  let command: StoreCommand;
  try {
    command = parseStoreArgs(argv, deps.env ?? process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${err.message}\n${STORE_USAGE}\n`);
    return 1;
  }
  const write = (text: string) => io.stderr.write(text);
  const progress = command.progress ? bulkProgress(write, { tty: io.stderr.isTTY === true }) : NO_PROGRESS;
  const found = await findFiles(command.inputs, (n) => progress.notice(`${n.path}: ${n.note}`));
  const summary = await storeInstances(found.instances, found.notes, {
    baseUrl: command.baseUrl,
    fetch: credentialsFetch(resolveCredentials(command.auth), deps.fetch ? { fetch: deps.fetch } : {}),
    maxRequestBytes: command.maxRequestBytes,
    concurrency: command.concurrency,
    skipExisting: command.skipExisting,
    progress,
  });
  if (command.json) io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else io.stdout.write(formatStoreSummary(summary));
  return storeExitCode(summary);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
