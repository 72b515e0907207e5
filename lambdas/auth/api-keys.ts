/**
 * Random credentials the archive issues itself (docs/security.md): `<prefix>_<id>_<secret>`, the id
 * 12 lower-case letters and digits (the record's key in its store), the secret 32 random bytes in hex.
 * API keys of machine clients are `dwk_...`; share links' tokens `dws_...` (./share-tokens.ts). The
 * store keeps only SHA-256 of the secret: the secret is random and long, so a fast hash is enough (no
 * password stretching needed), and comparison is in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;

export interface IssuedCredential {
  readonly id: string;
  readonly secret: string;
  /** What the client sends: `Authorization: Bearer <key>` (an API key also as the password of HTTP Basic). */
  readonly key: string;
}

/** An API key of a machine client. */
export type ApiKey = IssuedCredential;

/** The kind of an issued credential: its prefix, and its parts' shape. */
export interface CredentialKind {
  /** A new random credential of this kind. */
  issue(): IssuedCredential;
  /** The id and secret of a string shaped like one; undefined for anything else (a JWT, a typo). */
  parse(value: string): { id: string; secret: string } | undefined;
  /** True when the value carries this kind's prefix at all (so it is never sent to a JWT verifier). */
  claims(value: string): boolean;
}

export function credentialKind(prefix: string): CredentialKind {
  const pattern = new RegExp(`^${prefix}_([a-z0-9]{${ID_LENGTH}})_([0-9a-f]{64})$`);
  return {
    issue() {
      const bytes = randomBytes(ID_LENGTH);
      let id = '';
      for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
      const secret = randomBytes(32).toString('hex');
      return { id, secret, key: `${prefix}_${id}_${secret}` };
    },
    parse(value) {
      const m = pattern.exec(value);
      return m ? { id: m[1]!, secret: m[2]! } : undefined;
    },
    claims: (value) => value.startsWith(`${prefix}_`),
  };
}

/** The id part of an issued credential, as its store keys it. */
export const CREDENTIAL_ID_PATTERN = new RegExp(`^[a-z0-9]{${ID_LENGTH}}$`);

const apiKeys = credentialKind('dwk');

/** A new random key. */
export const newApiKey = (): ApiKey => apiKeys.issue();

/** The id and secret of a string shaped like a key; undefined for anything else (a JWT, a typo). */
export const parseApiKey = (value: string) => apiKeys.parse(value);

/** True when the value looks like an API key at all (so it is never sent to a JWT verifier). */
export const looksLikeApiKey = (value: string): boolean => apiKeys.claims(value);

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(secretHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
