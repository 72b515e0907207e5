/**
 * The services of one Lambda function, built on its first request from the configuration and kept
 * for the life of the process. Each handler names the ports and services it uses, so its
 * bundle carries only those adapters, their SDK clients and the DICOM code they need, which keeps
 * its cold start short (docs/performance.md); ./services.ts builds every service for the processes that serve every transaction.
 *
 * Every function also carries the API key clients and share links when their table is configured
 * (CLIENTS_TABLE_NAME): the middleware verifies a key or share token presented to it (lambdas/http/middleware.ts).
 */
import { config, type Config } from '../config';
import { optionalClientStore } from '../storage/factory/client-store';
import { optionalShareLinkStore } from '../storage/factory/share-link-store';
import type { ClientStore, ShareLinkStore } from '../storage/ports';

/** What every function has, whatever its handler uses. */
export interface SharedServices {
  readonly config: Config;
  /** The API key clients; absent without CLIENTS_TABLE_NAME. */
  readonly clientStore?: ClientStore;
  /** The share links, in the same table; absent without CLIENTS_TABLE_NAME. */
  readonly shareLinkStore?: ShareLinkStore;
}

export type FunctionServices<S> = S & SharedServices;

export function functionServices<S extends object>(build: (cfg: Config, shared: SharedServices) => S): () => FunctionServices<S> {
  let built: FunctionServices<S> | undefined;
  return () => {
    if (!built) {
      const cfg = config();
      const shared: SharedServices = { config: cfg, clientStore: optionalClientStore(cfg), shareLinkStore: optionalShareLinkStore(cfg) };
      built = { ...build(cfg, shared), ...shared };
    }
    return built;
  };
}
