/** Builds the destination registry source (see ./clients.ts for how the factory is laid out). */
import type { Config } from '../../config';
import { createSecretsManagerClient, FileDestinationRegistrySource, SecretsManagerDestinationRegistrySource } from '../destinations';
import type { RegistryFormat, RegistrySource } from '../ports';

/**
 * The destination registry: the Secrets Manager secret in AWS, else the file (embedded runtime), read
 * in the format the Send layer gives (lambdas/send/destinations.ts DESTINATION_REGISTRY_FORMAT).
 */
export function destinations<R>(
  cfg: Pick<Config, 'region' | 'destinationsSecretArn' | 'destinationsFile'>,
  format: RegistryFormat<R>,
): RegistrySource<R> {
  if (cfg.destinationsSecretArn) {
    return new SecretsManagerDestinationRegistrySource(createSecretsManagerClient(cfg), cfg.destinationsSecretArn, format);
  }
  return new FileDestinationRegistrySource(cfg.destinationsFile ?? '.data/destinations.json', format);
}
