/**
 * The options of each service, from the configuration: one mapping for the services every process
 * builds (./services.ts) and those a Lambda function builds for its handler (./function-services.ts).
 */
import { checksCredentials } from '../auth/authenticate';
import type { Config } from '../config';

export const searchOptions = (cfg: Config) => ({
  maxCandidates: cfg.qidoMaxCandidates,
  defaultLimit: cfg.qidoDefaultLimit,
  maxLimit: cfg.qidoMaxLimit,
});

export const npiOptions = (cfg: Config) => ({
  ...searchOptions(cfg),
  maxRequestBytes: cfg.maxRequestBytes,
  maxResponseBytes: cfg.maxResponseBytes,
});

export const storeOptions = (cfg: Config) => ({ bulkDataThreshold: cfg.bulkDataThreshold, maxRequestBytes: cfg.maxRequestBytes });

export const uploadOptions = (cfg: Config) => ({ ...cfg.uploads, bulkDataThreshold: cfg.bulkDataThreshold });

export const retrieveOptions = (cfg: Config) => ({ maxResponseBytes: cfg.maxResponseBytes });

export const renderOptions = (cfg: Config) => ({ maxResponseBytes: cfg.maxResponseBytes });

export const sendOptions = (cfg: Config) => ({
  waitMs: cfg.sendWaitMs,
  retryAfterSeconds: cfg.sendRetryAfterSeconds,
  resultTtlSeconds: cfg.sendResultTtlSeconds,
  tombstoneTtlSeconds: cfg.sendTombstoneTtlSeconds,
});

export const shareLinksOptions = (cfg: Config) => ({
  maxLifetimeSeconds: cfg.shareMaxExpirySeconds,
  ...(cfg.viewerUrl && { viewerUrl: cfg.viewerUrl }),
  checksCredentials: checksCredentials(cfg),
});
