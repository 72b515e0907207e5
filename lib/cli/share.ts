/**
 * `npm run share`: second-opinion share links (docs/security.md, "Share links") over the archive's
 * /admin/shares resource, with a credential holding the share scope.
 *   npm run share -- --study UID [--expires 7d] [--note TEXT]   prints the link (its token shown once)
 *   npm run share -- list                                        the links, expired and revoked included
 *   npm run share -- revoke ID                                   ends a link
 */
import { pathToFileURL } from 'node:url';
import { LIFETIME_GRAMMAR, parseLifetime } from '../../lambdas/auth/share-tokens';
import { adminCaller, formatTable, parseAdminArgs, runAdminCli, type Terminal } from './admin-http';
import { CREDENTIAL_USAGE, parseCredentials, type CliCredentials } from './credentials';

export const USAGE = `Usage: npm run share -- --study UID [--expires 7d] [--note TEXT] [--url URL] [credentials]
       npm run share -- list [--url URL] [credentials]
       npm run share -- revoke ID [--url URL] [credentials]
  (no command)   create a link opening the viewer on one study, read-only; prints the link, whose
                 token is shown once
  list           the links (expired and revoked ones included), never their tokens
  revoke ID      end a link: its token authenticates no request from now on
Options:
  --study UID    the StudyInstanceUID to share
  --expires T    how long the link lives: ${LIFETIME_GRAMMAR}; 7d by default, at most the
                 archive's SHARE_MAX_EXPIRY (30d by default)
  --note TEXT    for whom and why (no patient data): shown by list
  --url URL      the archive's public service root, which the link opens (default: PUBLIC_BASE_URL,
                 else http://127.0.0.1:8080)
  --json         print the archive's JSON answer
Credentials (a token with the share scope):
${CREDENTIAL_USAGE}
Exit code: 0 done, 1 the archive refused the request or could not be reached, 2 bad usage.`;

const DEFAULT_URL = 'http://127.0.0.1:8080';

export class ShareUsageError extends Error {}

export type ShareCommand =
  | { readonly kind: 'create'; readonly study: string; readonly expires?: string; readonly note?: string }
  | { readonly kind: 'list' }
  | { readonly kind: 'revoke'; readonly id: string };

export interface ParsedShareArgs {
  readonly command: ShareCommand;
  readonly url: string;
  readonly credentials: CliCredentials;
  readonly json: boolean;
}

export function parseShareArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedShareArgs {
  const { values, positionals, url } = parseAdminArgs(
    argv,
    { study: { type: 'string' }, expires: { type: 'string' }, note: { type: 'string' } },
    env.PUBLIC_BASE_URL ?? DEFAULT_URL,
    (m) => new ShareUsageError(m),
  );
  const [verb, ...rest] = positionals;
  const creating = (['study', 'expires', 'note'] as const).filter((o) => values[o] !== undefined);
  let command: ShareCommand;
  if (verb === undefined) {
    if (!values.study) throw new ShareUsageError('--study is required to create a link (or give a command: list, revoke ID)');
    if (values.expires !== undefined && parseLifetime(values.expires) === undefined) {
      throw new ShareUsageError(`--expires "${values.expires}" is not a lifetime: ${LIFETIME_GRAMMAR}`);
    }
    command = { kind: 'create', study: values.study, expires: values.expires, note: values.note };
  } else if (verb === 'list' || verb === 'revoke') {
    if (creating.length) throw new ShareUsageError(`${verb} takes no --${creating[0]}`);
    if (verb === 'list') {
      if (rest.length) throw new ShareUsageError(`list takes no argument "${rest[0]}"`);
      command = { kind: 'list' };
    } else {
      if (rest.length !== 1) throw new ShareUsageError('revoke takes one link id');
      command = { kind: 'revoke', id: rest[0]! };
    }
  } else {
    throw new ShareUsageError(`unknown command "${verb}"`);
  }
  const credentials = parseCredentials(values, env, url, (m) => new ShareUsageError(m));
  return { command, url, credentials, json: values.json === true };
}

interface ShareView {
  readonly id: string;
  readonly studyInstanceUID: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly note?: string;
  readonly state: string;
  readonly lastUsedAt?: string;
  readonly useCount: number;
}

/** Runs the command; resolves to the exit code. */
export function main(
  argv: readonly string[],
  io: Terminal,
  deps: { readonly fetch?: typeof fetch; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  return runAdminCli({ usage: USAGE, parse: parseShareArgs, usageError: ShareUsageError, run }, argv, io, deps);
}

async function run({ command, json }: ParsedShareArgs, io: Terminal, call: ReturnType<typeof adminCaller>): Promise<void> {
  switch (command.kind) {
    case 'create': {
      const body = {
        study: command.study,
        ...(command.expires && { expires: command.expires }),
        ...(command.note && { note: command.note }),
      };
      const created = (await (await call('POST', '/admin/shares', body)).json()) as ShareView & {
        token: string;
        link: string;
        unrestricted?: boolean;
      };
      io.stdout.write(json ? `${JSON.stringify(created, null, 2)}\n` : `${created.link}\n`);
      io.stderr.write(
        `Share link ${created.id} opens study ${created.studyInstanceUID}, read-only, until ${created.expiresAt}.\n` +
          'Its token is shown once and cannot be shown again. Revoke it with: npm run share -- revoke ' +
          `${created.id}\n`,
      );
      if (created.unrestricted) {
        io.stderr.write(
          'Note: this archive checks no credential (AUTH=none): whoever reaches it reads every study, with or ' +
            'without this link. Run it with AUTH=token, api-keys or oidc for the link to be the only way in.\n',
        );
      }
      return;
    }
    case 'list': {
      const listed = (await (await call('GET', '/admin/shares')).json()) as { shares: ShareView[] };
      io.stdout.write(json ? `${JSON.stringify(listed, null, 2)}\n` : formatShares(listed.shares));
      return;
    }
    case 'revoke':
      await call('DELETE', `/admin/shares/${encodeURIComponent(command.id)}`);
      io.stderr.write(`Revoked share link ${command.id}: its token authenticates no request from now on.\n`);
      return;
  }
}

function formatShares(shares: readonly ShareView[]): string {
  if (shares.length === 0) return 'No share links.\n';
  return formatTable(
    ['ID', 'STATE', 'STUDY', 'EXPIRES', 'USES', 'LAST USED', 'CREATED BY', 'NOTE'],
    shares.map((s) => [s.id, s.state, s.studyInstanceUID, s.expiresAt, String(s.useCount), s.lastUsedAt ?? '-', s.createdBy, s.note ?? '']),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
