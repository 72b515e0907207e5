/**
 * The DIMSE gateway's own settings, read and validated once like lambdas/config.ts (kept apart so the
 * Lambda functions do not carry them):
 *   DIMSE_AET            the gateway's AE Title (default ARCHIVE)
 *   DIMSE_PORT           TCP port (default 11112)
 *   DIMSE_HOST           listen address (default 127.0.0.1 embedded; 0.0.0.0 in the container)
 *   DIMSE_MOVE_PROXY_ORIGIN  Proxy Option: SEND-RS origin server (service root URL) that serves every C-MOVE
 *   DIMSE_MOVE_PROXY_TOKEN   bearer token for that origin server (static), or client credentials:
 *   DIMSE_MOVE_PROXY_TOKEN_URL, DIMSE_MOVE_PROXY_CLIENT_ID, DIMSE_MOVE_PROXY_CLIENT_SECRET
 *                            OAuth 2.0 client credentials grant (RFC 6749 4.4) for that origin server
 *   DIMSE_MOVE_PROXY_SCOPE   scope asked for with the client credentials (default: the server's)
 *   DIMSE_MOVE_PROXY_MAX_WAIT_SECONDS  longest wait for a proxied Send (default 3600)
 *   DIMSE_CSTORE_TIMEOUT_MS  connect / PDU timeout of C-STORE sub-operations (default 30000)
 *   DIMSE_MAX_ASSOCIATIONS   associations served at once; more are rejected, transient (default 32)
 *   DIMSE_MAX_OBJECT_BYTES   largest C-STORE data set stored; a larger one is refused, A700 (default 256 MiB)
 *   DIMSE_MAX_BUFFERED_BYTES C-STORE data set bytes held at once over all associations; a data set that
 *                            does not fit is refused, A700 (default the larger of 256 MiB and DIMSE_MAX_OBJECT_BYTES)
 */
import type { ClientCredentials } from '../auth/oauth2-client';
import { ConfigError } from '../config';

export interface DimseConfig {
  readonly aeTitle: string;
  readonly port: number;
  readonly host: string;
  readonly proxy?: {
    readonly origin: string;
    readonly token?: string;
    readonly clientCredentials?: ClientCredentials;
    readonly maxWaitSeconds: number;
  };
  readonly cStoreTimeoutMs: number;
  /** Associations (TCP connections) served at once; a request beyond them is rejected, transient. */
  readonly maxAssociations: number;
  /**
   * Largest C-STORE data set stored (it is held in memory while stored, as a STOW-RS part is): a
   * larger one is read to its end without being kept, and refused with A700.
   */
  readonly maxObjectBytes: number;
  /**
   * C-STORE data set bytes held at once over all associations (at least maxObjectBytes). Storing a
   * data set grows the process by about 2.5 times its size at most (fragments, the Part 10 file,
   * garbage not yet collected), so the process needs roughly 2.5 x this plus its own ~150 MB:
   * 256 MiB fits the 1 GiB Fargate task (docs/dimse-gateway.md, sizing).
   */
  readonly maxBufferedBytes: number;
}

/** Defaults of the gateway's limits, also for a gateway started without a DimseConfig (tests). */
export const DIMSE_LIMIT_DEFAULTS = {
  maxAssociations: 32,
  maxObjectBytes: 256 * 1024 * 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
} as const;

/** The budget when none is set: the default, or one object of the largest size stored if that is more. */
export function defaultMaxBufferedBytes(maxObjectBytes: number): number {
  return Math.max(DIMSE_LIMIT_DEFAULTS.maxBufferedBytes, maxObjectBytes);
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > 2 ** 31) throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

export function loadDimseConfig(env: NodeJS.ProcessEnv = process.env, defaults: { host?: string } = {}): DimseConfig {
  const aeTitle = (env.DIMSE_AET ?? 'ARCHIVE').trim();
  // PS3.5 6.2 AE: 1 to 16 characters, no backslash or control characters.
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(aeTitle))
    throw new ConfigError('DIMSE_AET must be 1 to 16 printable characters without backslash');
  const port = int(env, 'DIMSE_PORT', 11112, 0);
  if (port > 65535) throw new ConfigError('DIMSE_PORT must be at most 65535');
  const maxObjectBytes = int(env, 'DIMSE_MAX_OBJECT_BYTES', DIMSE_LIMIT_DEFAULTS.maxObjectBytes, 1);
  const maxBufferedBytes = int(env, 'DIMSE_MAX_BUFFERED_BYTES', defaultMaxBufferedBytes(maxObjectBytes), 1);
  // A data set of the largest size stored must fit in the budget, or it would always be refused.
  if (maxBufferedBytes < maxObjectBytes) throw new ConfigError('DIMSE_MAX_BUFFERED_BYTES must be at least DIMSE_MAX_OBJECT_BYTES');
  const origin = env.DIMSE_MOVE_PROXY_ORIGIN;
  if (origin && !/^https?:\/\//.test(origin)) throw new ConfigError('DIMSE_MOVE_PROXY_ORIGIN must be an http(s) URL');
  const clientCredentials = proxyClientCredentials(env);
  if (!origin && (clientCredentials || env.DIMSE_MOVE_PROXY_TOKEN))
    throw new ConfigError('DIMSE_MOVE_PROXY_TOKEN and DIMSE_MOVE_PROXY_CLIENT_* need DIMSE_MOVE_PROXY_ORIGIN');
  if (clientCredentials && env.DIMSE_MOVE_PROXY_TOKEN)
    throw new ConfigError('set either DIMSE_MOVE_PROXY_TOKEN or the DIMSE_MOVE_PROXY_CLIENT_* client credentials, not both');
  return Object.freeze({
    aeTitle,
    port,
    host: env.DIMSE_HOST || defaults.host || '127.0.0.1',
    cStoreTimeoutMs: int(env, 'DIMSE_CSTORE_TIMEOUT_MS', 30_000, 1),
    maxAssociations: int(env, 'DIMSE_MAX_ASSOCIATIONS', DIMSE_LIMIT_DEFAULTS.maxAssociations, 1),
    maxObjectBytes,
    maxBufferedBytes,
    ...(origin
      ? {
          proxy: {
            origin,
            ...(env.DIMSE_MOVE_PROXY_TOKEN ? { token: env.DIMSE_MOVE_PROXY_TOKEN } : {}),
            ...(clientCredentials ? { clientCredentials } : {}),
            maxWaitSeconds: int(env, 'DIMSE_MOVE_PROXY_MAX_WAIT_SECONDS', 3600, 1),
          },
        }
      : {}),
  });
}

const CLIENT_CREDENTIAL_VARS = ['DIMSE_MOVE_PROXY_TOKEN_URL', 'DIMSE_MOVE_PROXY_CLIENT_ID', 'DIMSE_MOVE_PROXY_CLIENT_SECRET'] as const;

/** The Move proxy's client credentials: all three variables or none (a scope alone is an error too). */
function proxyClientCredentials(env: NodeJS.ProcessEnv): ClientCredentials | undefined {
  const missing = CLIENT_CREDENTIAL_VARS.filter((name) => !env[name]);
  if (missing.length === CLIENT_CREDENTIAL_VARS.length) {
    if (env.DIMSE_MOVE_PROXY_SCOPE)
      throw new ConfigError('DIMSE_MOVE_PROXY_SCOPE needs DIMSE_MOVE_PROXY_TOKEN_URL, _CLIENT_ID and _CLIENT_SECRET');
    return undefined;
  }
  if (missing.length) throw new ConfigError(`client credentials of the Move proxy: ${missing.join(', ')} must be set too`);
  const tokenUrl = env.DIMSE_MOVE_PROXY_TOKEN_URL!;
  if (!URL.canParse(tokenUrl) || !/^https?:$/.test(new URL(tokenUrl).protocol))
    throw new ConfigError('DIMSE_MOVE_PROXY_TOKEN_URL must be an http(s) URL');
  return {
    tokenUrl,
    clientId: env.DIMSE_MOVE_PROXY_CLIENT_ID!,
    clientSecret: env.DIMSE_MOVE_PROXY_CLIENT_SECRET!,
    ...(env.DIMSE_MOVE_PROXY_SCOPE ? { scope: env.DIMSE_MOVE_PROXY_SCOPE } : {}),
  };
}
