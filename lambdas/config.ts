/**
 * Every environment variable the archive reads, read and validated once (docs/configuration.md).
 * The CDK construct that grants a resource also sets its variable; the embedded runtime sets the
 * same variables before it loads any handler.
 */
import { isAbsolute } from 'node:path';
import { parseAllowedOrigins } from './http/cors';
import { parseTrustedProxies } from './http/trusted-proxies';
import { LIFETIME_GRAMMAR, parseLifetime } from './auth/share-tokens';

/**
 * Where the ports keep their data (docs/architecture.md, "Two runtimes, one code"): 'aws' the S3 and
 * DynamoDB adapters (in AWS, or on the emulators of S3_ENDPOINT / DYNAMODB_ENDPOINT); 'local' the
 * local engine under DATA_DIR (files and SQLite, lambdas/storage/local), embedded runtime only.
 */
export const STORAGE_KINDS = ['aws', 'local'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];

export interface Config {
  /** STORAGE: which adapters the factory (lambdas/storage/factory) builds; 'aws' by default. */
  readonly storage: StorageKind;
  /** DATA_DIR: the local engine's directory (absolute); required with STORAGE=local, unused otherwise. */
  readonly dataDir?: string;
  /** S3 bucket holding Part 10 objects, metadata JSON and send manifests. */
  readonly bucketName: string;
  /** DynamoDB table holding the index (studies, series, instances, tombstones, send requests). */
  readonly tableName: string;
  /** Step Functions state machine that runs Send requests (absent where Send is not wired). */
  readonly sendStateMachineArn?: string;
  readonly region: string;
  /** Emulator endpoints for the embedded runtime; unset in AWS. */
  readonly s3Endpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly sfnEndpoint?: string;
  /** Public base URL of the service root (e.g. https://host/prod); derived from the request when unset. */
  readonly publicBaseUrl?: string;
  /**
   * Public address of the viewer, where share links point (e.g. https://d1234.cloudfront.net/ when a
   * distribution serves it at its root); unset: `/viewer/` under the request's base URL, where the
   * embedded archive serves it.
   */
  readonly viewerUrl?: string;
  /**
   * TRUSTED_PROXIES: peers (IPv4 / IPv6 addresses and CIDR blocks, or '*' for every peer) whose
   * Forwarded / X-Forwarded-* headers give the public URIs when PUBLIC_BASE_URL is unset
   * (lambdas/http/public-uri.ts); none by default.
   */
  readonly trustedProxies: readonly string[];
  /** Largest request body accepted, in bytes, after decoding (Lambda's 6 MB payload, base64). */
  readonly maxRequestBytes: number;
  /** Largest retrieve response, in bytes (Lambda response streaming limit). */
  readonly maxResponseBytes: number;
  /**
   * USAGE_LOG 'true' / 'false': one usage line per request (lambdas/http/usage-log.ts, docs/cost.md).
   * Unset: on in Lambda (AWS_LAMBDA_FUNCTION_NAME is set), off in the embedded runtime.
   */
  readonly usageLog: boolean;
  /** QIDO-RS: most index items one search may read before it answers 413. */
  readonly qidoMaxCandidates: number;
  /** QIDO-RS: results returned when the request has no limit, and the largest limit honoured. */
  readonly qidoDefaultLimit: number;
  readonly qidoMaxLimit: number;
  /** Number of shards of the level index (spreads writes of every study over partitions). */
  readonly indexShards: number;
  /** Binary values larger than this are replaced by a BulkDataURI in metadata (PS3.18 F.2.6). */
  readonly bulkDataThreshold: number;
  /**
   * Origins whose browser scripts may call the API (CORS, lambdas/http/cors.ts); none by default. The
   * CDK construct sets CORS_ALLOWED_ORIGINS from context corsAllowedOrigins on every function.
   */
  readonly corsAllowedOrigins: readonly string[];
  /**
   * How requests authenticate (AUTH, comma-separated; docs/security.md): 'none' (embedded default,
   * loopback only), 'token' (the static AUTH_TOKEN), 'api-keys' (per-client keys in the clients
   * table), 'oidc' (OAuth 2.0 access tokens of OIDC_ISSUER for OIDC_AUDIENCE), or 'iam' (API
   * Gateway checked SigV4 before the function ran). 'none' and 'iam' stand alone. Unset: 'token' when
   * AUTH_TOKEN is set, else 'none'.
   */
  readonly auth: readonly AuthMechanism[];
  /** Static bearer token of AUTH=token; it holds every scope. */
  readonly authToken?: string;
  /** OpenID Connect issuer (iss claim), e.g. https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x. */
  readonly oidcIssuer?: string;
  /**
   * Accepted audiences (OIDC_AUDIENCE, comma-separated): a token's `aud`, or for Cognito access
   * tokens, which carry no `aud`, its `client_id`.
   */
  readonly oidcAudience: readonly string[];
  /** Prefix of the archive's scopes in tokens (e.g. "dicomweb/" for a Cognito resource server); none by default. */
  readonly oidcScopePrefix: string;
  /** The issuer's JWKS URL; discovered from {issuer}/.well-known/openid-configuration when unset. */
  readonly oidcJwksUri?: string;
  /**
   * The OHIF Viewer's public client at OIDC_ISSUER (VIEWER_OIDC_CLIENT_ID; code + PKCE, no secret):
   * with AUTH including oidc, the viewer served at /viewer/ logs in with it (docs/viewer.md).
   */
  readonly viewerOidcClientId?: string;
  /** Scopes the viewer asks for (VIEWER_OIDC_SCOPE); `openid` and the read scope by default. */
  readonly viewerOidcScope?: string;
  /** DynamoDB table of API key clients (AUTH=api-keys). */
  readonly clientsTableName?: string;
  /** SHARE_MAX_EXPIRY: the longest lifetime of a share link, in seconds (30 days by default). */
  readonly shareMaxExpirySeconds: number;
  /** The upload path (docs/uploads.md): limits and lifetimes of uploads. */
  readonly uploads: UploadConfig;
  /**
   * Embedded gateway: most requests handled at once; beyond it 503 with Retry-After (what Lambda's
   * concurrency limit and API Gateway throttling answer in AWS).
   */
  readonly maxInFlightRequests: number;
  /**
   * Embedded runtime on the local engine: threads reading the instances of a Store (0: on the event
   * loop); unset, one per core but the event loop's, 1 to 4 (lib/local/store-workers.ts).
   */
  readonly storeWorkers?: number;
  /**
   * Embedded runtime on the local engine: threads making the rendered and thumbnail images of heavy
   * decodes (0: on the event loop); unset, one per core, 1 to 4 (lib/local/render-workers.ts).
   */
  readonly renderWorkers?: number;

  // SEND-RS (Supplement 248)
  /** Embedded runtime: JSON file with the destination registry. */
  readonly destinationsFile?: string;
  /** AWS: Secrets Manager secret holding the destination registry JSON. */
  readonly destinationsSecretArn?: string;
  /** Instances per Deliver sub-operation batch (one STOW request or one association). */
  readonly sendBatchSize: number;
  /** Deliver batches running at once. */
  readonly sendMaxConcurrency: number;
  /** Most bytes of instances one Deliver holds and sends at once; a larger batch goes out in several requests. */
  readonly sendMaxBatchBytes: number;
  /** How long the Send transaction waits for the workflow before answering 202, in ms. */
  readonly sendWaitMs: number;
  /** Retry-After of 202 (and 503) Send / Check Send Result responses, in seconds. */
  readonly sendRetryAfterSeconds: number;
  /** Seconds after its creation that a send request's result is kept; afterwards Check Send Result is 410. */
  readonly sendResultTtlSeconds: number;
  /** Seconds the expired request's tombstone is kept (answering 410) before it is deleted (404). */
  readonly sendTombstoneTtlSeconds: number;
}

export class ConfigError extends Error {}

export const AUTH_MECHANISMS = ['none', 'token', 'api-keys', 'oidc', 'iam'] as const;
export type AuthMechanism = (typeof AUTH_MECHANISMS)[number];

/** AUTH, validated against the variables each mechanism needs (see Config.auth). */
function authMechanisms(env: NodeJS.ProcessEnv): readonly AuthMechanism[] {
  const raw = env.AUTH?.trim();
  const names = raw ? raw.split(/[\s,]+/).filter(Boolean) : [env.AUTH_TOKEN ? 'token' : 'none'];
  const unknown = names.filter((n) => !(AUTH_MECHANISMS as readonly string[]).includes(n));
  if (unknown.length) throw new ConfigError(`AUTH: unknown mechanism "${unknown[0]}"; one of ${AUTH_MECHANISMS.join(', ')}`);
  const mechanisms = [...new Set(names)] as AuthMechanism[];
  for (const alone of ['none', 'iam'] as const) {
    if (mechanisms.includes(alone) && mechanisms.length > 1)
      throw new ConfigError(`AUTH: '${alone}' cannot be combined with another mechanism`);
  }
  if (mechanisms.includes('token') && !env.AUTH_TOKEN) throw new ConfigError('AUTH=token needs AUTH_TOKEN');
  if (mechanisms.includes('oidc') && (!env.OIDC_ISSUER || !env.OIDC_AUDIENCE)) {
    throw new ConfigError('AUTH=oidc needs OIDC_ISSUER and OIDC_AUDIENCE');
  }
  if (mechanisms.includes('api-keys') && !env.CLIENTS_TABLE_NAME) throw new ConfigError('AUTH=api-keys needs CLIENTS_TABLE_NAME');
  return mechanisms;
}

/** STORAGE and DATA_DIR, validated together (see Config.storage). */
function storage(env: NodeJS.ProcessEnv): { storage: StorageKind; dataDir?: string } {
  const kind = env.STORAGE?.trim() || 'aws';
  if (!(STORAGE_KINDS as readonly string[]).includes(kind)) {
    throw new ConfigError(`STORAGE: unknown storage "${kind}"; one of ${STORAGE_KINDS.join(', ')}`);
  }
  const dataDir = optional(env, 'DATA_DIR');
  if (dataDir !== undefined && !isAbsolute(dataDir)) throw new ConfigError(`DATA_DIR must be an absolute path, got "${dataDir}"`);
  if (kind === 'local' && dataDir === undefined) throw new ConfigError("STORAGE=local needs DATA_DIR, the local engine's directory");
  return { storage: kind as StorageKind, ...(dataDir !== undefined && { dataDir }) };
}

function list(env: NodeJS.ProcessEnv, name: string): readonly string[] {
  return (env[name] ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function origins(env: NodeJS.ProcessEnv, name: string): readonly string[] {
  try {
    return parseAllowedOrigins(env[name]);
  } catch (error) {
    throw new ConfigError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function trustedProxies(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    return parseTrustedProxies(env.TRUSTED_PROXIES);
  } catch (error) {
    throw new ConfigError(`TRUSTED_PROXIES: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  if (n > max) throw new ConfigError(`${name} must be at most ${max}, got "${raw}"`);
  return n;
}

/** A count that may be 0, or undefined when unset. */
function countOrUnset(env: NodeJS.ProcessEnv, name: string, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ConfigError(`${name} must be an integer from 0 to ${max}, got "${raw}"`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new ConfigError(`${name}: "${v.slice(0, 40)}" is not 'true' or 'false'`);
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new ConfigError(`environment variable ${name} is required`);
  return v;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v ? v : undefined;
}

/**
 * Lambda's synchronous invocation payload, 6 MB each way (Lambda quotas, "Invocation payload"): the
 * whole proxy event in, the whole serialized proxy result out of a buffered function.
 */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** What the proxy event or result holds beside the body (headers, path, request context). */
export const PROXY_FIELDS_HEADROOM_BYTES = 64 * 1024;
/**
 * Largest request body: API Gateway base64-encodes a binary body into the event (4/3), which leaves
 * 4,653,056 bytes of the 6 MB payload (minus the headroom).
 */
export const LAMBDA_MAX_REQUEST_BYTES = Math.floor((LAMBDA_MAX_PAYLOAD_BYTES * 3) / 4) - PROXY_FIELDS_HEADROOM_BYTES;
/**
 * Longest bounded wait of the Send transaction: the send function's timeout (18 s, lambdas/http/routes.ts:
 * buffered functions end before API Gateway's 29 s, a cold start included) less the request's own
 * writes, the workflow's start and the answer.
 */
export const SEND_WAIT_MS_MAX = 10_000;
/** Lambda response streaming: 200 MB per response. */
export const LAMBDA_MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;
/** SEND_RESULT_TTL_SECONDS's default: a send request's result is kept a week after it was made. */
export const DEFAULT_SEND_RESULT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * SEND_MAX_BATCH_BYTES's default: the most bytes of one Store request body (instances and multipart
 * framing) a destination behind API Gateway and Lambda accepts, such as a second deployment of this
 * archive; a destination that answers 413 all the same gets the batch in halves (lambdas/send/stow-client.ts).
 */
export const DEFAULT_SEND_MAX_BATCH_BYTES = LAMBDA_MAX_REQUEST_BYTES;

/** The upload path's settings (docs/uploads.md, docs/configuration.md). */
export interface UploadConfig {
  /** UPLOAD_MAX_BYTES: the largest file an upload takes (64 GiB by default; S3's 5 TiB at most). */
  readonly maxBytes: number;
  /** UPLOAD_URL_EXPIRY: seconds a part URL stays valid (3600; S3 presigns for 7 days at most). */
  readonly urlExpirySeconds: number;
  /** UPLOAD_EXPIRY: seconds an upload may take from its creation (24 h), after which it is abandoned. */
  readonly expirySeconds: number;
  /** UPLOAD_STORING_RETRY_SECONDS: seconds before a Store cut short may run again (900: the function's timeout). */
  readonly storingRetrySeconds: number;
}

/** S3's largest object (5 TiB), the bound of an upload whatever UPLOAD_MAX_BYTES says. */
export const S3_MAX_OBJECT_BYTES = 5 * 1024 ** 4;

function uploadConfig(env: NodeJS.ProcessEnv): UploadConfig {
  return {
    maxBytes: int(env, 'UPLOAD_MAX_BYTES', 64 * 1024 ** 3, S3_MAX_OBJECT_BYTES),
    urlExpirySeconds: int(env, 'UPLOAD_URL_EXPIRY', 3600, 7 * 24 * 3600),
    expirySeconds: int(env, 'UPLOAD_EXPIRY', 24 * 3600),
    storingRetrySeconds: int(env, 'UPLOAD_STORING_RETRY_SECONDS', 900),
  };
}

/** A lifetime such as `30d` (lambdas/auth/share-tokens.ts), in seconds. */
function lifetime(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const text = optional(env, name) ?? fallback;
  const seconds = parseLifetime(text);
  if (seconds === undefined) throw new ConfigError(`${name}: "${text.slice(0, 40)}" is not a lifetime; ${LIFETIME_GRAMMAR}`);
  return seconds;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return Object.freeze({
    ...storage(env),
    bucketName: required(env, 'BUCKET_NAME'),
    tableName: required(env, 'TABLE_NAME'),
    sendStateMachineArn: optional(env, 'SEND_STATE_MACHINE_ARN'),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    s3Endpoint: optional(env, 'S3_ENDPOINT'),
    dynamodbEndpoint: optional(env, 'DYNAMODB_ENDPOINT'),
    sfnEndpoint: optional(env, 'SFN_ENDPOINT'),
    publicBaseUrl: optional(env, 'PUBLIC_BASE_URL')?.replace(/\/+$/, ''),
    viewerUrl: optional(env, 'VIEWER_URL')?.replace(/\/*$/, '/'),
    trustedProxies: trustedProxies(env),
    maxRequestBytes: int(env, 'MAX_REQUEST_BYTES', LAMBDA_MAX_REQUEST_BYTES),
    maxResponseBytes: int(env, 'MAX_RESPONSE_BYTES', LAMBDA_MAX_STREAMED_RESPONSE_BYTES),
    usageLog: bool(env, 'USAGE_LOG', env.AWS_LAMBDA_FUNCTION_NAME !== undefined),
    qidoMaxCandidates: int(env, 'QIDO_MAX_CANDIDATES', 20000),
    qidoDefaultLimit: int(env, 'QIDO_DEFAULT_LIMIT', 1000),
    qidoMaxLimit: int(env, 'QIDO_MAX_LIMIT', 5000),
    indexShards: int(env, 'INDEX_SHARDS', 8),
    bulkDataThreshold: int(env, 'BULKDATA_THRESHOLD', 1024),
    corsAllowedOrigins: origins(env, 'CORS_ALLOWED_ORIGINS'),
    auth: authMechanisms(env),
    authToken: optional(env, 'AUTH_TOKEN'),
    oidcIssuer: optional(env, 'OIDC_ISSUER'),
    oidcAudience: list(env, 'OIDC_AUDIENCE'),
    oidcScopePrefix: env.OIDC_SCOPE_PREFIX ?? '',
    oidcJwksUri: optional(env, 'OIDC_JWKS_URI'),
    viewerOidcClientId: optional(env, 'VIEWER_OIDC_CLIENT_ID'),
    viewerOidcScope: optional(env, 'VIEWER_OIDC_SCOPE'),
    clientsTableName: optional(env, 'CLIENTS_TABLE_NAME'),
    shareMaxExpirySeconds: lifetime(env, 'SHARE_MAX_EXPIRY', '30d'),
    uploads: uploadConfig(env),
    maxInFlightRequests: int(env, 'MAX_IN_FLIGHT_REQUESTS', 64),
    storeWorkers: countOrUnset(env, 'STORE_WORKERS', 64),
    renderWorkers: countOrUnset(env, 'RENDER_WORKERS', 64),
    destinationsFile: optional(env, 'DESTINATIONS_FILE'),
    destinationsSecretArn: optional(env, 'DESTINATIONS_SECRET_ARN'),
    sendBatchSize: int(env, 'SEND_BATCH_SIZE', 10),
    sendMaxConcurrency: int(env, 'SEND_MAX_CONCURRENCY', 4),
    sendMaxBatchBytes: int(env, 'SEND_MAX_BATCH_BYTES', DEFAULT_SEND_MAX_BATCH_BYTES),
    sendWaitMs: int(env, 'SEND_WAIT_MS', 2000, SEND_WAIT_MS_MAX),
    sendRetryAfterSeconds: int(env, 'SEND_RETRY_AFTER_SECONDS', 2),
    sendResultTtlSeconds: int(env, 'SEND_RESULT_TTL_SECONDS', DEFAULT_SEND_RESULT_TTL_SECONDS),
    sendTombstoneTtlSeconds: int(env, 'SEND_TOMBSTONE_TTL_SECONDS', 90 * 24 * 3600),
  });
}

let cached: Config | undefined;
/** The configuration of this process, read on first use. */
export function config(): Config {
  return (cached ??= loadConfig());
}
