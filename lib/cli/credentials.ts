/**
 * How the command-line tools authenticate to a DICOMweb server, one set of options for all of them:
 *   --token T                a bearer token (default: the DICOMWEB_TOKEN environment variable)
 *   --client-credentials     OAuth 2.0 client credentials grant (RFC 6749 4.4) with --token-url,
 *                            --client-id and --client-secret (or DICOMWEB_CLIENT_ID and
 *                            DICOMWEB_CLIENT_SECRET, so the secret need not be on the command line),
 *                            --scope and --token-auth-method client_secret_basic|client_secret_post
 *   --basic USER:PASS, --sigv4 [--region R]  where the tool offers them (the smoke test)
 * The result is a fetch that sets the Authorization header of every request: the token fetched,
 * cached and refreshed (lambdas/auth/oauth2-client.ts), or the SigV4 signature (./sigv4).
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import {
  authorizingFetch,
  basicAuthorization,
  clientCredentialsAuthorization,
  staticAuthorization,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClientCredentials,
  type TokenEndpointAuthMethod,
} from '../../lambdas/auth/oauth2-client';
import { regionOfExecuteApiHost, sigV4Signer, type AwsCredentials, type RequestSigner } from './sigv4';

/** The parseArgs options of the token and client credentials choices, shared by every CLI. */
export const CREDENTIAL_OPTIONS = {
  token: { type: 'string' },
  'client-credentials': { type: 'boolean' },
  'token-url': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  scope: { type: 'string' },
  'token-auth-method': { type: 'string' },
} as const;

/** Usage lines of CREDENTIAL_OPTIONS. */
export const CREDENTIAL_USAGE = `  --token        bearer token (default: the DICOMWEB_TOKEN environment variable)
  --client-credentials  get tokens with the OAuth 2.0 client credentials grant from --token-url, as
                 --client-id / --client-secret (default: DICOMWEB_CLIENT_ID / DICOMWEB_CLIENT_SECRET),
                 asking for --scope; --token-auth-method client_secret_basic (default) or client_secret_post`;

/** The parsed values of CREDENTIAL_OPTIONS, plus --basic, --sigv4 and --region where a CLI has them. */
export interface CredentialFlags {
  readonly token?: string | undefined;
  readonly 'client-credentials'?: boolean | undefined;
  readonly 'token-url'?: string | undefined;
  readonly 'client-id'?: string | undefined;
  readonly 'client-secret'?: string | undefined;
  readonly scope?: string | undefined;
  readonly 'token-auth-method'?: string | undefined;
  readonly basic?: string | undefined;
  readonly sigv4?: boolean | undefined;
  readonly region?: string | undefined;
}

/** What the command line chose; SigV4 is resolved later (it needs the credential chain). */
export type CliCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'sigv4'; readonly region: string }
  | { readonly kind: 'client-credentials'; readonly credentials: ClientCredentials };

/** CliCredentials with SigV4's signer made. */
export type ResolvedCredentials = Exclude<CliCredentials, { kind: 'sigv4' }> | { readonly kind: 'sigv4'; readonly signer: RequestSigner };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The credentials the flags and the environment ask for. `url` is the server's (SigV4 takes the
 * region from an execute-api host). Bad combinations throw `usageError(message)`.
 */
export function parseCredentials(flags: CredentialFlags, env: Env, url: string, usageError: (message: string) => Error): CliCredentials {
  const cc = flags['client-credentials'] === true;
  const chosen = [
    flags.token !== undefined && '--token',
    flags.basic !== undefined && '--basic',
    flags.sigv4 === true && '--sigv4',
    cc && '--client-credentials',
  ].filter(Boolean);
  if (chosen.length > 1) throw usageError(`choose one of ${chosen.join(', ')}`);
  for (const name of ['token-url', 'client-id', 'client-secret', 'scope', 'token-auth-method'] as const) {
    if (flags[name] !== undefined && !cc) throw usageError(`--${name} is for --client-credentials`);
  }
  if (flags.region !== undefined && flags.sigv4 !== true) throw usageError('--region is for --sigv4');

  if (cc) return { kind: 'client-credentials', credentials: clientCredentials(flags, env, usageError) };
  if (flags.sigv4) {
    const region = flags.region ?? (URL.canParse(url) ? regionOfExecuteApiHost(new URL(url).hostname) : undefined);
    if (!region) throw usageError('--sigv4: give --region (the host is not {api-id}.execute-api.{region}.amazonaws.com)');
    return { kind: 'sigv4', region };
  }
  if (flags.basic !== undefined) {
    const colon = flags.basic.indexOf(':');
    if (colon <= 0) throw usageError('--basic expects user:password');
    return { kind: 'basic', user: flags.basic.slice(0, colon), password: flags.basic.slice(colon + 1) };
  }
  const token = flags.token ?? env.DICOMWEB_TOKEN;
  return token ? { kind: 'bearer', token } : { kind: 'none' };
}

function clientCredentials(flags: CredentialFlags, env: Env, usageError: (message: string) => Error): ClientCredentials {
  const tokenUrl = flags['token-url'];
  if (!tokenUrl) throw usageError('--client-credentials needs --token-url');
  if (!URL.canParse(tokenUrl) || !/^https?:$/.test(new URL(tokenUrl).protocol))
    throw usageError('--token-url must be an absolute http(s) URL');
  const clientId = flags['client-id'] ?? env.DICOMWEB_CLIENT_ID;
  if (!clientId) throw usageError('--client-credentials needs --client-id (or DICOMWEB_CLIENT_ID)');
  const clientSecret = flags['client-secret'] ?? env.DICOMWEB_CLIENT_SECRET;
  if (!clientSecret) throw usageError('--client-credentials needs --client-secret (or DICOMWEB_CLIENT_SECRET)');
  const method = flags['token-auth-method'];
  if (method !== undefined && !TOKEN_ENDPOINT_AUTH_METHODS.includes(method as TokenEndpointAuthMethod))
    throw usageError(`--token-auth-method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
  if (flags.scope === '') throw usageError('--scope must not be empty');
  return {
    tokenUrl,
    clientId,
    clientSecret,
    ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
    ...(method !== undefined ? { tokenEndpointAuthMethod: method as TokenEndpointAuthMethod } : {}),
  };
}

/** Makes the SigV4 signer; its credentials come from the AWS default provider chain unless given. */
export function resolveCredentials(creds: CliCredentials, awsCredentials?: () => Promise<AwsCredentials>): ResolvedCredentials {
  if (creds.kind !== 'sigv4') return creds;
  return { kind: 'sigv4', signer: sigV4Signer({ region: creds.region, credentials: awsCredentials ?? fromNodeProviderChain() }) };
}

/** SigV4 could not sign (mostly: the credential chain found no credentials). */
export class SigningError extends Error {
  constructor(cause: unknown) {
    super(`could not sign the request with SigV4 (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'SigningError';
  }
}

/**
 * A fetch that authenticates every request as `creds` says. With client credentials the token is
 * fetched on first use (TokenRequestError when that fails), cached, and refreshed once on a 401.
 */
export function credentialsFetch(
  creds: ResolvedCredentials,
  opts: { readonly fetch?: typeof fetch; readonly timeoutMs?: number } = {},
): typeof fetch {
  const doFetch = opts.fetch ?? fetch;
  switch (creds.kind) {
    case 'none':
      return doFetch;
    case 'bearer':
      return authorizingFetch(staticAuthorization(`Bearer ${creds.token}`), doFetch);
    case 'basic':
      return authorizingFetch(staticAuthorization(basicAuthorization(creds.user, creds.password)), doFetch);
    case 'client-credentials':
      return authorizingFetch(
        clientCredentialsAuthorization(creds.credentials, { fetch: doFetch, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }),
        doFetch,
      );
    case 'sigv4':
      return signingFetch(creds.signer, doFetch);
  }
}

function signingFetch(signer: RequestSigner, doFetch: typeof fetch): typeof fetch {
  return async (input, init = {}) => {
    if (input instanceof Request) throw new TypeError('the CLI fetches URLs, not Request objects');
    const url = new URL(input);
    const body = bodyBytes(init.body);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const { host: _host, ...signed } = await signer({ method: init.method ?? 'GET', url, headers, ...(body ? { body } : {}) }).catch(
      (err: unknown) => {
        throw new SigningError(err);
      },
    );
    // fetch sends Host itself, with the value signed (url.host)
    return doFetch(url, { ...init, headers: signed, ...(body ? { body } : {}) });
  };
}

function bodyBytes(body: RequestInit['body']): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  throw new TypeError('the CLI sends strings and byte arrays only');
}
