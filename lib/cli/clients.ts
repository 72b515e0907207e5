/**
 * `npm run clients -- add|list|revoke`: manages the archive's API key clients (docs/security.md) over
 * its admin routes (/admin/clients), with a credential holding the admin scope. `add` prints the new
 * key once: the archive keeps only its hash.
 */
import { pathToFileURL } from 'node:url';
import { CREDENTIAL_USAGE, parseCredentials, type CliCredentials } from './credentials';
import { adminCaller, formatTable, parseAdminArgs, runAdminCli, type Terminal } from './admin-http';

export { ArchiveRefusal, type Terminal } from './admin-http';

export const USAGE = `Usage: npm run clients -- <command> [--url URL] [credentials]
  add --name NAME --scopes read,write,...   add a client; prints its API key once
  list                                      list the clients (revoked ones included)
  revoke ID                                 revoke a client's key
Options:
  --url URL        the archive's service root (default http://127.0.0.1:8080)
  --json           print the archive's JSON answer (add, list)
Credentials (a token with the admin scope):
${CREDENTIAL_USAGE}
Scopes: read, write, delete, send, share, admin.
Exit code: 0 done, 1 the archive refused the request or could not be reached, 2 bad usage.`;

const DEFAULT_URL = 'http://127.0.0.1:8080';

export class ClientsUsageError extends Error {}

export type ClientsCommand =
  | { readonly kind: 'add'; readonly name: string; readonly scopes: string }
  | { readonly kind: 'list' }
  | { readonly kind: 'revoke'; readonly id: string };

export interface ParsedArgs {
  readonly command: ClientsCommand;
  readonly url: string;
  readonly credentials: CliCredentials;
  readonly json: boolean;
}

export function parseClientsArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const { values, positionals, url } = parseAdminArgs(
    argv,
    { name: { type: 'string' }, scopes: { type: 'string' } },
    DEFAULT_URL,
    (m) => new ClientsUsageError(m),
  );
  const [verb, ...rest] = positionals;
  const only = (allowed: string[]) => {
    const extra = (['name', 'scopes'] as const).filter((o) => values[o] !== undefined && !allowed.includes(o));
    if (extra.length) throw new ClientsUsageError(`${verb} takes no --${extra[0]}`);
  };
  let command: ClientsCommand;
  switch (verb) {
    case 'add':
      only(['name', 'scopes']);
      if (rest.length) throw new ClientsUsageError(`add takes no argument "${rest[0]}"`);
      if (!values.name) throw new ClientsUsageError('add needs --name');
      if (!values.scopes) throw new ClientsUsageError('add needs --scopes (e.g. --scopes read,write)');
      command = { kind: 'add', name: values.name, scopes: values.scopes };
      break;
    case 'list':
      only([]);
      if (rest.length) throw new ClientsUsageError(`list takes no argument "${rest[0]}"`);
      command = { kind: 'list' };
      break;
    case 'revoke':
      only([]);
      if (rest.length !== 1) throw new ClientsUsageError('revoke takes one client id');
      command = { kind: 'revoke', id: rest[0]! };
      break;
    default:
      throw new ClientsUsageError(verb === undefined ? 'a command is required' : `unknown command "${verb}"`);
  }
  const credentials = parseCredentials(values, env, url, (m) => new ClientsUsageError(m));
  return { command, url, credentials, json: values.json === true };
}

interface ClientView {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** Runs the command; resolves to the exit code. */
export function main(
  argv: readonly string[],
  io: Terminal,
  deps: { readonly fetch?: typeof fetch; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  return runAdminCli({ usage: USAGE, parse: parseClientsArgs, usageError: ClientsUsageError, run }, argv, io, deps);
}

async function run({ command, json }: ParsedArgs, io: Terminal, call: ReturnType<typeof adminCaller>): Promise<void> {
  switch (command.kind) {
    case 'add': {
      const added = (await (await call('POST', '/admin/clients', { name: command.name, scopes: command.scopes })).json()) as ClientView & {
        key: string;
      };
      io.stdout.write(json ? `${JSON.stringify(added, null, 2)}\n` : `${added.key}\n`);
      io.stderr.write(
        `Added client "${added.name}" (id ${added.id}) with scopes ${added.scopes.join(', ')}.\n` +
          'This API key is shown once and cannot be shown again: store it now. Send it as ' +
          '"Authorization: Bearer <key>" or as the password of HTTP Basic.\n',
      );
      return;
    }
    case 'list': {
      const listed = (await (await call('GET', '/admin/clients')).json()) as { clients: ClientView[] };
      io.stdout.write(json ? `${JSON.stringify(listed, null, 2)}\n` : formatClients(listed.clients));
      return;
    }
    case 'revoke':
      await call('DELETE', `/admin/clients/${encodeURIComponent(command.id)}`);
      io.stderr.write(`Revoked client ${command.id}: its key authenticates no request from now on.\n`);
      return;
  }
}

function formatClients(clients: readonly ClientView[]): string {
  if (clients.length === 0) return 'No clients.\n';
  return formatTable(
    ['ID', 'NAME', 'SCOPES', 'CREATED', 'REVOKED'],
    clients.map((c) => [c.id, c.name, c.scopes.join(','), c.createdAt, c.revokedAt ?? '-']),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
