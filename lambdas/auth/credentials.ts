/**
 * The credential of a request's Authorization header: a bearer token (RFC 6750 2.1) or HTTP Basic
 * user and password (RFC 7617). Anything else is a 401 with a `WWW-Authenticate: Bearer` challenge
 * (RFC 6750 3) and a message saying what is wrong, never echoing the header.
 */
import { UnauthorizedError } from '../dicomweb/errors';

export type Credential =
  { readonly scheme: 'bearer'; readonly token: string } | { readonly scheme: 'basic'; readonly user: string; readonly password: string };

/** The realm of our challenges (RFC 6750 3; RFC 7235 2.2). */
export const REALM = 'dicomweb';

/**
 * Longest Authorization header read. Access tokens of common issuers are 1-4 KiB; API Gateway and
 * most servers cap all headers near 10 KiB anyway.
 */
export const MAX_AUTHORIZATION_LENGTH = 8192;

/** RFC 6750 2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 7617 2: the token68 of Basic, standard base64 with optional padding. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * RFC 6750 3.1 error codes: none when the request carries no credential at all, invalid_request when
 * it is malformed, invalid_token when it is expired, revoked or wrong.
 */
export type BearerError = 'invalid_request' | 'invalid_token';

/** A 401 with the Bearer challenge; `error` omitted when no credential was sent (RFC 6750 3.1). */
export function unauthorized(message: string, error?: BearerError): UnauthorizedError {
  const e = new UnauthorizedError(message);
  const params = [`realm="${REALM}"`];
  if (error) params.push(`error="${error}"`, `error_description="${message.replace(/["\\]/g, '')}"`);
  e.headers['WWW-Authenticate'] = `Bearer ${params.join(', ')}`;
  return e;
}

/** Parses the Authorization header; throws only UnauthorizedError. */
export function parseAuthorization(header: string | undefined): Credential {
  if (header === undefined || header.trim() === '') {
    return fail('this archive requires a credential: Authorization: Bearer <token>');
  }
  if (header.length > MAX_AUTHORIZATION_LENGTH) {
    return fail(`the Authorization header is longer than ${MAX_AUTHORIZATION_LENGTH} characters`, 'invalid_request');
  }
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*)(?: +(.*))?$/s.exec(header.trim());
  if (!match) return fail('the Authorization header is not "<scheme> <credentials>"', 'invalid_request');
  const scheme = match[1]!.toLowerCase();
  const value = (match[2] ?? '').trim();
  if (scheme === 'bearer') return bearer(value);
  if (scheme === 'basic') return basic(value);
  return fail('the Authorization scheme must be Bearer (an access token or API key) or Basic (an API key as password)', 'invalid_request');
}

function bearer(value: string): Credential {
  if (!value) return fail('the Bearer credential is empty', 'invalid_request');
  if (!B64TOKEN.test(value)) return fail('the Bearer token has characters a token cannot hold (RFC 6750 2.1)', 'invalid_token');
  return { scheme: 'bearer', token: value };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function basic(value: string): Credential {
  if (!value) return fail('the Basic credential is empty', 'invalid_request');
  if (!BASE64.test(value) || value.length % 4 === 1) return fail('the Basic credential is not base64 (RFC 7617 2)', 'invalid_request');
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(value, 'base64'));
  } catch {
    return fail('the Basic credential is not UTF-8 text (RFC 7617 2.1)', 'invalid_request');
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return fail('the Basic credential has no ":" between user and password (RFC 7617 2)', 'invalid_request');
  // RFC 7617 2: the user-id cannot contain a colon, the password can; control characters are refused.
  if (/\p{Cc}/u.test(decoded)) return fail('the Basic credential holds control characters (RFC 7617 2)', 'invalid_request');
  const password = decoded.slice(colon + 1);
  if (!password) return fail('the Basic credential has an empty password', 'invalid_request');
  return { scheme: 'basic', user: decoded.slice(0, colon), password };
}

function fail(message: string, error?: BearerError): never {
  throw unauthorized(message, error);
}
