/**
 * The ShareLinkStore port (re-exported by ./ports.ts): second-opinion share links (docs/security.md,
 * "Share links"). A link lets whoever holds its token search and retrieve one study, read-only, until
 * it expires or is revoked. Like an API key, only the SHA-256 of the token's secret is kept.
 */
export interface ShareLink {
  /** The token's public identifier, its middle part (`dws_<id>_<secret>`). */
  readonly id: string;
  /** Hex SHA-256 of the token's secret part. */
  readonly secretHash: string;
  /** The one study the link opens. */
  readonly studyInstanceUID: string;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** Who created it: the creator's mechanism and principal (`oidc:<sub>`, `api-keys:<id>`), never a credential. */
  readonly createdBy: string;
  /** ISO 8601 UTC: from then on the token authenticates no request. */
  readonly expiresAt: string;
  /** What the creator wrote for whom and why (e.g. "second opinion, Dr. X"). */
  readonly note?: string;
  /** ISO 8601 UTC, once revoked. */
  readonly revokedAt?: string;
  /** ISO 8601 UTC of the latest use recorded (uses are recorded at most about once a minute per process). */
  readonly lastUsedAt?: string;
  /** Requests recorded with its token. */
  readonly useCount: number;
}

export interface ShareLinkStore {
  /** Records a new link; AlreadyExistsError when its id is taken. */
  create(link: ShareLink): Promise<void>;
  get(id: string): Promise<ShareLink | undefined>;
  /** Every link, expired and revoked ones included, oldest first. */
  list(): Promise<ShareLink[]>;
  /** Marks the link revoked at `at`; false when there is no such link. Revoking twice keeps the first time. */
  revoke(id: string, at: string): Promise<boolean>;
  /** Adds `count` uses and moves lastUsedAt to `at` (never back); nothing for an unknown link. */
  recordUses(id: string, count: number, at: string): Promise<void>;
}
