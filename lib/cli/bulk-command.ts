/**
 * What `npm run store` and `npm run retrieve` share on the command line: the archive's URL, the
 * output choices and the credentials (./credentials), parsed into a fetch and a progress display, and
 * the usage handling of their `main`. URLs the archive hands out (upload parts, redirects to an object)
 * carry their own signature and are fetched without the credentials: the plain fetch.
 */
import {
  CREDENTIAL_OPTIONS,
  CREDENTIAL_USAGE,
  credentialsFetch,
  parseCredentials,
  resolveCredentials,
  type CredentialFlags,
} from './credentials';
import { bulkProgress, NO_PROGRESS, type BulkProgress } from './bulk-progress';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/** A command line the bulk CLIs cannot run: the message, then the usage, exit code 1. */
export class UsageError extends Error {}

/** The parseArgs options every bulk CLI takes. */
export const BULK_OPTIONS = {
  url: { type: 'string' },
  'no-progress': { type: 'boolean' },
  json: { type: 'boolean' },
  ...CREDENTIAL_OPTIONS,
  help: { type: 'boolean', short: 'h' }, // handled by runBulkCommand
} as const;

/** Usage lines of BULK_OPTIONS. */
export const BULK_USAGE = `  --url          the archive's service root (default ${DEFAULT_BASE_URL})
  --no-progress  no progress on stderr
  --json         the summary as JSON on stdout
${CREDENTIAL_USAGE}`;

export interface Terminal {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
}

export interface BulkDeps {
  readonly fetch?: typeof fetch;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The parsed BULK_OPTIONS, ready to use. */
export interface BulkSettings {
  readonly baseUrl: string;
  readonly progress: boolean;
  readonly json: boolean;
  readonly auth: ReturnType<typeof parseCredentials>;
}

/** A positive integer option, or its default. */
export function positiveInteger(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

/** BULK_OPTIONS' values checked: --url an absolute http(s) URL (kept without a trailing slash). */
export function bulkSettings(
  values: CredentialFlags & {
    readonly url?: string | undefined;
    readonly 'no-progress'?: boolean | undefined;
    readonly json?: boolean | undefined;
  },
  env: Readonly<Record<string, string | undefined>>,
): BulkSettings {
  const url = values.url ?? DEFAULT_BASE_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError('--url must be an absolute http(s) URL');
  const baseUrl = url.replace(/\/+$/, '');
  return {
    baseUrl,
    progress: values['no-progress'] !== true,
    json: values.json === true,
    auth: parseCredentials(values, env, baseUrl, (message) => new UsageError(message)),
  };
}

/**
 * The common frame of a bulk CLI's main: --help, the command line parsed (a UsageError printed with
 * the usage, exit code 1), then `run` with the authenticating fetch and the progress display; what
 * stops the run as a whole (a folder that cannot be read, an archive out of reach) is said in a line,
 * `<name> failed: ...`, exit code 1.
 */
export async function runBulkCommand<C extends BulkSettings>(
  argv: readonly string[],
  io: Terminal,
  deps: BulkDeps,
  name: string,
  usage: string,
  parse: (argv: readonly string[], env: Readonly<Record<string, string | undefined>>) => C,
  run: (command: C, fetch: typeof globalThis.fetch, progress: BulkProgress, plainFetch: typeof globalThis.fetch) => Promise<number>,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${usage}\n`);
    return 0;
  }
  let command: C;
  try {
    command = parse(argv, deps.env ?? process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`${err.message}\n${usage}\n`);
    return 1;
  }
  const progress = command.progress ? bulkProgress((text) => io.stderr.write(text), { tty: io.stderr.isTTY === true }) : NO_PROGRESS;
  const authenticated = credentialsFetch(resolveCredentials(command.auth), deps.fetch ? { fetch: deps.fetch } : {});
  try {
    return await run(command, authenticated, progress, deps.fetch ?? fetch);
  } catch (err) {
    progress.end();
    if (!(err instanceof Error)) throw err;
    io.stderr.write(`${name} failed: ${describeError(err)}\n`);
    return 1;
  }
}

/** An error for people: fetch's "fetch failed" with what caused it (e.g. connect ECONNREFUSED). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error && err.cause.message ? `${err.message} (${err.cause.message})` : err.message;
}
