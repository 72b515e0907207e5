/**
 * Share links' tokens and lifetimes (docs/security.md, "Share links"). A token is an issued credential
 * (./api-keys.ts) with its own prefix: `dws_<id>_<secret>`, the id the link's key in the
 * ShareLinkStore, only SHA-256 of the secret stored. A lifetime is written `<N>h`, `<N>d` or `<N>w`
 * (hours, days, weeks), the CLI's `--expires` and SHARE_MAX_EXPIRY alike.
 */
import { credentialKind, type IssuedCredential } from './api-keys';

const shareTokens = credentialKind('dws');

/** A new share token. */
export const newShareToken = (): IssuedCredential => shareTokens.issue();

/** The id and secret of a string shaped like a share token; undefined for anything else. */
export const parseShareToken = (value: string) => shareTokens.parse(value);

/** True when the value looks like a share token at all (so it goes to no other verifier). */
export const looksLikeShareToken = (value: string): boolean => shareTokens.claims(value);

const UNIT_SECONDS = { h: 3600, d: 24 * 3600, w: 7 * 24 * 3600 } as const;
const LIFETIME_PATTERN = /^([1-9][0-9]{0,5})([hdw])$/;

/** What a lifetime looks like, for error messages. */
export const LIFETIME_GRAMMAR = '<N>h, <N>d or <N>w (hours, days, weeks), e.g. 12h, 7d, 2w';

/** Seconds of a lifetime such as `7d`; undefined when the text is not one. */
export function parseLifetime(text: string): number | undefined {
  const m = LIFETIME_PATTERN.exec(text.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS] : undefined;
}

/** A lifetime in its largest whole unit (`2w`, `36h`), for messages. */
export function formatLifetime(seconds: number): string {
  for (const unit of ['w', 'd', 'h'] as const) if (seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  return `${seconds}s`;
}
