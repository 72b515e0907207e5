/**
 * What the CLIs of the archive's admin resources share (`npm run clients`, `npm run share`): the run
 * of a command with its exit code, one JSON call to the archive with the credential's fetch, a
 * refusal told from its Status Report, and a plain-text table.
 */
import { TokenRequestError } from '../../lambdas/auth/oauth2-client';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CREDENTIAL_OPTIONS, credentialsFetch, resolveCredentials, type CliCredentials } from './credentials';

/** The archive refused the request: its status and the Status Report's text. */
export class ArchiveRefusal extends Error {}

export interface Terminal {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The parsed values of options (none of them `multiple`): a boolean flag or a string, when given. */
type OptionValues<O> = { readonly [K in keyof O]?: O[K] extends { readonly type: 'boolean' } ? boolean : string };

/** The options of every admin CLI: the credential's, --url (the service root) and --json. */
const ADMIN_OPTIONS = { ...CREDENTIAL_OPTIONS, url: { type: 'string' }, json: { type: 'boolean' } } as const;

/**
 * Parses an admin CLI's command line strictly (an unknown option is a usage error): its own options
 * besides ADMIN_OPTIONS, its positionals, and the service root without a trailing slash (`--url`, else
 * `defaultUrl`), which must be an http(s) URL.
 */
export function parseAdminArgs<const O extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  own: O,
  defaultUrl: string,
  usageError: (message: string) => Error,
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: { ...ADMIN_OPTIONS, ...own } });
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : 'invalid arguments');
  }
  const values = parsed.values as OptionValues<typeof ADMIN_OPTIONS & O>;
  const { positionals } = parsed;
  const url = ((values.url as string | undefined) ?? defaultUrl).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url)) throw usageError('--url must be an http(s) URL of the service root');
  return { values, positionals, url };
}

export interface AdminCli<A extends { readonly url: string; readonly credentials: CliCredentials }> {
  readonly usage: string;
  /** The arguments; throws `usageError` for bad usage. */
  parse(argv: readonly string[], env: NodeJS.ProcessEnv): A;
  readonly usageError: new (...args: never[]) => Error;
  run(args: A, io: Terminal, call: ReturnType<typeof adminCaller>): Promise<void>;
}

/** Runs an admin CLI; resolves to its exit code: 0 done, 1 refused or unreachable, 2 bad usage. */
export async function runAdminCli<A extends { readonly url: string; readonly credentials: CliCredentials }>(
  cli: AdminCli<A>,
  argv: readonly string[],
  io: Terminal,
  deps: { readonly fetch?: typeof fetch; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${cli.usage}\n`);
    return 0;
  }
  let args: A;
  let fetchFn: typeof fetch;
  try {
    args = cli.parse(argv, deps.env ?? process.env);
    fetchFn = credentialsFetch(resolveCredentials(args.credentials), { ...(deps.fetch && { fetch: deps.fetch }) });
  } catch (err) {
    if (!(err instanceof cli.usageError)) throw err;
    io.stderr.write(`${err.message}\n${cli.usage}\n`);
    return 2;
  }
  try {
    await cli.run(args, io, adminCaller(args.url, fetchFn));
    return 0;
  } catch (err) {
    if (!(err instanceof ArchiveRefusal) && !(err instanceof TokenRequestError)) throw err;
    io.stderr.write(`${err.message}\n`);
    return 1;
  }
}

/** A JSON call to the service root `url`: the response when 2xx, else ArchiveRefusal. */
export function adminCaller(url: string, fetchFn: typeof fetch) {
  return async (method: string, path: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchFn(`${url}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    } catch (err) {
      if (err instanceof TokenRequestError) throw err;
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new ArchiveRefusal(`could not reach ${url}${cause}`);
    }
    if (!response.ok) throw new ArchiveRefusal(await refusalText(method, path, response));
    return response;
  };
}

/** `POST /admin/clients: 403 Forbidden: <detail>` and each detail of the Status Report on its own line. */
async function refusalText(method: string, path: string, response: Response): Promise<string> {
  const head = `${method} ${path}: ${response.status} ${response.statusText}`.trimEnd();
  const text = await response.text();
  try {
    const report = JSON.parse(text) as { detail?: unknown; errors?: { target?: string; message?: string }[] };
    const lines = typeof report.detail === 'string' ? [`${head}: ${report.detail}`] : [head];
    for (const e of report.errors ?? []) lines.push(`  ${e.target ? `${e.target}: ` : ''}${e.message ?? ''}`);
    return lines.join('\n');
  } catch {
    return text.trim() ? `${head}: ${text.trim().slice(0, 500)}` : head;
  }
}

/** Rows under a header, each column as wide as its widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return (
    all
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
