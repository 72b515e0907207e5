/**
 * The scopes a credential may hold, one per kind of transaction (docs/security.md): an OAuth 2.0
 * access token's `scope`/`scp` claim (RFC 8693 4.2, RFC 9068 2.2.3), an API key's own list. The route
 * table (lambdas/http/routes.ts) says which scope each route requires.
 */
export const SCOPES = ['read', 'write', 'delete', 'send', 'share', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What each scope allows, for `clients` CLI help, docs and Status Reports. */
export const SCOPE_DESCRIPTIONS: Readonly<Record<Scope, string>> = {
  read: 'Search (QIDO-RS), Retrieve (WADO-RS), Retrieve Capabilities, NPI search and retrieve',
  write: 'Store (STOW-RS), NPI store',
  delete: 'Delete studies, series and instances',
  send: 'Send (SEND-RS) and Check Send Result',
  share: 'Create, list and revoke share links, each giving read of one study',
  admin: 'Manage API key clients',
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * Parses a comma- or space-separated scope list (CLI flags, configuration); throws on an unknown name
 * so a typo never silently grants less, or more, than meant.
 */
export function parseScopes(raw: string): Scope[] {
  const names = raw.split(/[\s,]+/).filter(Boolean);
  const unknown = names.filter((n) => !isScope(n));
  if (unknown.length) throw new Error(`unknown scope ${unknown.map((n) => `"${n}"`).join(', ')}; scopes are ${SCOPES.join(', ')}`);
  return [...new Set(names as Scope[])];
}
