/**
 * API keys of machine clients (docs/security.md): `dwk_<id>_<secret>`, the id 12 lower-case letters
 * and digits (the client's key in the ClientStore), the secret 32 random bytes in hex. The store keeps
 * only SHA-256 of the secret: the secret is random and long, so a fast hash is enough (no password
 * stretching needed), and comparison is in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'dwk';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;
const KEY_PATTERN = /^dwk_([a-z0-9]{12})_([0-9a-f]{64})$/;

export interface ApiKey {
  readonly id: string;
  readonly secret: string;
  /** What the client sends: `Authorization: Bearer <key>`, or as the password of HTTP Basic. */
  readonly key: string;
}

/** A new random key. */
export function newApiKey(): ApiKey {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  const secret = randomBytes(32).toString('hex');
  return { id, secret, key: `${PREFIX}_${id}_${secret}` };
}

/** The id and secret of a string shaped like a key; undefined for anything else (a JWT, a typo). */
export function parseApiKey(value: string): { id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(value);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** True when the value looks like an API key at all (so it is never sent to a JWT verifier). */
export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(`${PREFIX}_`);
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(secretHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
