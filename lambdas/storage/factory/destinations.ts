/** Builds the destination registry source (see ./clients.ts for how the factory is laid out). */
import type { Config } from '../../config';
import { destinationRegistrySource, type DestinationRegistrySource } from '../destinations';

/** The destination registry: the Secrets Manager secret in AWS, else the file (embedded runtime). */
export function destinations(cfg: Pick<Config, 'region' | 'destinationsSecretArn' | 'destinationsFile'>): DestinationRegistrySource {
  return destinationRegistrySource(cfg);
}
