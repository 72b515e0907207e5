/**
 * Which environment variables of lambdas/config.ts and lambdas/dimse/config.ts `npm start` takes from
 * its own environment, and which the embedded runtime sets itself (test/unit/lib/local/variables.test.ts
 * fails when a variable the archive reads is in neither list, so a new setting cannot be forgotten).
 */

/** Passed from `npm start`'s environment to the handlers and the DIMSE gateway. */
export const PASSED_VARIABLES = [
  'AUTH',
  'AUTH_TOKEN',
  'OIDC_ISSUER',
  'OIDC_AUDIENCE',
  'OIDC_SCOPE_PREFIX',
  'OIDC_JWKS_URI',
  'VIEWER_OIDC_CLIENT_ID',
  'VIEWER_OIDC_SCOPE',
  'SHARE_MAX_EXPIRY',
  'VIEWER_URL',
  'CORS_ALLOWED_ORIGINS',
  'PUBLIC_BASE_URL',
  'TRUSTED_PROXIES',
  'MAX_REQUEST_BYTES',
  'MAX_RESPONSE_BYTES',
  'MAX_IN_FLIGHT_REQUESTS',
  'STORE_WORKERS',
  'RENDER_WORKERS',
  'QIDO_MAX_CANDIDATES',
  'QIDO_DEFAULT_LIMIT',
  'QIDO_MAX_LIMIT',
  'INDEX_SHARDS',
  'BULKDATA_THRESHOLD',
  'DESTINATIONS_FILE',
  'SEND_BATCH_SIZE',
  'SEND_MAX_CONCURRENCY',
  'SEND_MAX_BATCH_BYTES',
  'SEND_WAIT_MS',
  'SEND_RETRY_AFTER_SECONDS',
  'SEND_RESULT_TTL_SECONDS',
  'SEND_TOMBSTONE_TTL_SECONDS',
  'UPLOAD_MAX_BYTES',
  'UPLOAD_URL_EXPIRY',
  'UPLOAD_EXPIRY',
  'UPLOAD_STORING_RETRY_SECONDS',
  'DIMSE_AET',
  'DIMSE_MOVE_PROXY_ORIGIN',
  'DIMSE_MOVE_PROXY_TOKEN',
  'DIMSE_MOVE_PROXY_TOKEN_URL',
  'DIMSE_MOVE_PROXY_CLIENT_ID',
  'DIMSE_MOVE_PROXY_CLIENT_SECRET',
  'DIMSE_MOVE_PROXY_SCOPE',
  'DIMSE_MOVE_PROXY_MAX_WAIT_SECONDS',
  'DIMSE_CSTORE_TIMEOUT_MS',
  'DIMSE_MAX_ASSOCIATIONS',
  'DIMSE_MAX_OBJECT_BYTES',
  'DIMSE_MAX_BUFFERED_BYTES',
] as const;

/**
 * Set by the embedded runtime itself (lib/local/archive.ts: its emulators, tables, workflow and
 * ports; DIMSE_PORT and HOST come from startArchive's options), or meaningful in AWS only.
 */
export const RUNTIME_VARIABLES = [
  // npm start reads these itself (lib/local/main.ts) and the runtime sets them for the handlers
  'STORAGE',
  'DATA_DIR',
  'BUCKET_NAME',
  'TABLE_NAME',
  'CLIENTS_TABLE_NAME',
  'SEND_STATE_MACHINE_ARN',
  'S3_ENDPOINT',
  'DYNAMODB_ENDPOINT',
  'SFN_ENDPOINT',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'DESTINATIONS_SECRET_ARN',
  'DIMSE_PORT',
  'DIMSE_HOST',
] as const;
