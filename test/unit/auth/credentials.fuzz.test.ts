/**
 * Fuzzing the Authorization header parser (lambdas/auth/credentials.ts): whatever a client sends, the
 * parser answers a credential or a 401 with the Bearer challenge, never another error, and never
 * quotes what was sent. Seeded, so a failure replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_AUTHORIZATION_LENGTH, parseAuthorization, type Credential } from '../../../lambdas/auth/credentials';
import { UnauthorizedError } from '../../../lambdas/dicomweb/errors';

const RUNS = { seed: 2121, numRuns: 5_000 };

/** Parses, and checks the one allowed failure: a 401 with our challenge that does not echo the input. */
function parseOrReject(header: string): Credential | UnauthorizedError {
  try {
    return parseAuthorization(header);
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthorizedError);
    const e = error as UnauthorizedError;
    expect(e.status).toBe(401);
    expect(e.headers['WWW-Authenticate']).toMatch(
      /^Bearer realm="dicomweb"(, error="invalid_(request|token)", error_description="[^"\\]*")?$/,
    );
    // The credential part (anything after the scheme), when long enough to be a secret, is not quoted.
    const secret = header.trim().split(/ +/).slice(1).join(' ');
    if (secret.length >= 8) {
      expect(e.message).not.toContain(secret);
      expect(e.headers['WWW-Authenticate']).not.toContain(secret);
    }
    return e;
  }
}

const b64tokenChar = fc.constantFrom(...'ABCXYZabcxyz0189-._~+/'.split(''));
const b64token = fc
  .tuple(fc.array(b64tokenChar, { minLength: 1, maxLength: 300 }), fc.nat(3))
  .map(([cs, pad]) => cs.join('') + '='.repeat(pad));
const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'basic', 'Digest', 'Negotiate', 'AWS4-HMAC-SHA256', 'Token', '');
const anyText = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);
const base64Of = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('parseAuthorization', () => {
  it('answers a credential or a 401 challenge for any header', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.tuple(scheme, fc.constantFrom(' ', '  ', '\t', ''), anyText).map(([s, sp, v]) => s + sp + v),
        ),
        (header) => {
          const result = parseOrReject(header);
          if (result instanceof UnauthorizedError) return;
          if (result.scheme === 'bearer') expect(result.token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
          else expect(result.user).not.toContain(':');
        },
      ),
      RUNS,
    );
  });

  it('answers a 401 for random bytes, bad base64 and no colon under Basic', () => {
    const badBasic = fc.oneof(
      anyText.filter((t) => !/^[A-Za-z0-9+/]+={0,2}$/.test(t)),
      fc
        .string({ maxLength: 60 })
        .filter((t) => !t.includes(':'))
        .map(base64Of),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from([0xff, 0xfe, ...b]).toString('base64')),
    );
    fc.assert(
      fc.property(badBasic, (value) => {
        const result = parseOrReject(`Basic ${value}`);
        if (!(result instanceof UnauthorizedError)) {
          // Only a value that happens to decode to UTF-8 text with a colon and a password may pass.
          expect(result.scheme).toBe('basic');
          expect(Buffer.from(value, 'base64').toString('utf8')).toContain(':');
        }
      }),
      RUNS,
    );
  });

  it('reads back every well-formed bearer token, whatever the case of the scheme', () => {
    fc.assert(
      fc.property(fc.constantFrom('Bearer', 'bearer', 'BeArEr'), b64token, (s, token) => {
        expect(parseOrReject(`${s} ${token}`)).toEqual({ scheme: 'bearer', token });
      }),
      RUNS,
    );
  });

  it('reads back every Basic user and password (RFC 7617: the user has no colon, the password may)', () => {
    const noControl = (t: string) => !/\p{Cc}/u.test(t);
    const user = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((u) => !u.includes(':') && noControl(u));
    const password = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).filter(noControl);
    fc.assert(
      fc.property(user, password, (u, p) => {
        expect(parseOrReject(`Basic ${base64Of(`${u}:${p}`)}`)).toEqual({ scheme: 'basic', user: u, password: p });
      }),
      RUNS,
    );
  });

  it('refuses huge headers with a 401 saying so, without reading them', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_AUTHORIZATION_LENGTH + 1, max: 1_000_000 }), b64tokenChar, (length, c) => {
        const result = parseOrReject(`Bearer ${c.repeat(length)}`);
        expect(result).toBeInstanceOf(UnauthorizedError);
        expect((result as UnauthorizedError).message).toMatch(/longer than 8192/);
      }),
      { seed: RUNS.seed, numRuns: 50 },
    );
  });

  it('says what is wrong for each malformed shape', () => {
    const message = (header: string | undefined) => {
      try {
        parseAuthorization(header);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(message(undefined)).toMatch(/requires a credential/);
    expect(message('   ')).toMatch(/requires a credential/);
    expect(message('Bearer')).toMatch(/Bearer credential is empty/);
    expect(message('Bearer a b')).toMatch(/characters a token cannot hold/);
    expect(message('Bearer é')).toMatch(/characters a token cannot hold/);
    expect(message('Digest abc')).toMatch(/scheme must be Bearer .* or Basic/);
    expect(message('Basic !!!')).toMatch(/not base64/);
    expect(message(`Basic ${base64Of('no-colon')}`)).toMatch(/no ":"/);
    expect(message(`Basic ${base64Of('user:')}`)).toMatch(/empty password/);
    expect(message(`Basic ${base64Of('a:b\u0000')}`)).toMatch(/control characters/);
    expect(message(`Basic ${Buffer.from([0x61, 0x3a, 0xc3, 0x28]).toString('base64')}`)).toMatch(/not UTF-8/);
    expect(parseAuthorization(`Basic ${base64Of(':dwk_key')}`)).toEqual({ scheme: 'basic', user: '', password: 'dwk_key' });
  });

  it('challenges without an error code when no credential was sent (RFC 6750 3.1)', () => {
    const challenge = (header: string | undefined) => (parseOrReject(header ?? '') as UnauthorizedError).headers['WWW-Authenticate'];
    expect(challenge(undefined)).toBe('Bearer realm="dicomweb"');
    expect(challenge('Bearer a b')).toMatch(/error="invalid_token"/);
    expect(challenge('Digest x')).toMatch(/error="invalid_request"/);
  });
});
