/**
 * The services of one Lambda function, built on its first request from the configuration and kept
 * for the life of the process. Each handler names the ports and services it uses, so its
 * bundle carries only those adapters, their SDK clients and the DICOM code they need, which keeps
 * its cold start short (docs/performance.md); ./services.ts builds every service for the processes that serve every transaction.
 */
import { config, type Config } from '../config';

export type FunctionServices<S> = S & { readonly config: Config };

export function functionServices<S extends object>(build: (cfg: Config) => S): () => FunctionServices<S> {
  let built: FunctionServices<S> | undefined;
  return () => {
    if (!built) {
      const cfg = config();
      built = { ...build(cfg), config: cfg };
    }
    return built;
  };
}
