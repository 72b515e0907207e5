/**
 * Where the SEND-RS destination registry (lambdas/send/destinations.ts) comes from: a JSON file in
 * the embedded runtime, a Secrets Manager secret in AWS (DESIGN.md, SEND-RS). Both parse with
 * parseDestinationRegistry, whose messages name fields, never their values, so no error from here
 * carries a credential.
 */
import { stat } from 'node:fs/promises';
import { GetSecretValueCommand, InternalServiceError, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config';
import {
  DestinationRegistryError,
  loadDestinationRegistryFile,
  parseDestinationRegistry,
  type DestinationRegistry,
} from '../send/destinations';
import { callAws, clientOptions, isThrottlingException } from './aws-calls';
import { recordCalls } from './call-recorder';

/** The Secrets Manager client of this process; it has no emulator (the embedded runtime reads a file). */
export function createSecretsManagerClient(config: Pick<Config, 'region'>): SecretsManagerClient {
  return recordCalls(new SecretsManagerClient(clientOptions(config, undefined)));
}

export interface DestinationRegistrySource {
  /** The current registry; throws DestinationRegistryError when it is malformed. */
  load(): Promise<DestinationRegistry>;
}

/**
 * The registry file of the embedded runtime, re-read whenever its modification time (or size)
 * changes, so an operator can edit it while the archive runs. A missing file is an empty registry.
 */
export class FileDestinationRegistrySource implements DestinationRegistrySource {
  private cached?: { readonly version: string; readonly registry: DestinationRegistry };

  constructor(private readonly path: string) {}

  async load(): Promise<DestinationRegistry> {
    const version = await this.version();
    if (this.cached?.version === version) return this.cached.registry;
    // Read after stat: an edit in between is caught by the next load's stat.
    const registry = await loadDestinationRegistryFile(this.path);
    this.cached = { version, registry };
    return registry;
  }

  private async version(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.mtimeMs}:${s.size}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw e;
    }
  }
}

export interface SecretsManagerDestinationRegistryOptions {
  /** How long a fetched registry is used before the secret is read again. */
  readonly cacheSeconds?: number;
  /** Clock in epoch milliseconds (tests). */
  readonly now?: () => number;
}

/** Secrets Manager faults that the HTTP status alone may not reveal as transient. */
function isSecretsManagerUnavailable(error: unknown): boolean {
  return error instanceof InternalServiceError || isThrottlingException(error);
}

/**
 * The registry held as the SecretString of a Secrets Manager secret (JSON), cached for cacheSeconds
 * so a Send does not read the secret each time; concurrent loads share one read.
 */
export class SecretsManagerDestinationRegistrySource implements DestinationRegistrySource {
  private cached?: { readonly until: number; readonly registry: DestinationRegistry };
  private inFlight?: Promise<DestinationRegistry>;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    private readonly secretArn: string,
    options: SecretsManagerDestinationRegistryOptions = {},
  ) {
    this.cacheMs = (options.cacheSeconds ?? 300) * 1000;
    this.now = options.now ?? Date.now;
  }

  load(): Promise<DestinationRegistry> {
    if (this.cached && this.now() < this.cached.until) return Promise.resolve(this.cached.registry);
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<DestinationRegistry> {
    const out = await callAws(
      'Secrets Manager',
      () => this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn })),
      isSecretsManagerUnavailable,
    );
    if (typeof out.SecretString !== 'string') {
      throw new DestinationRegistryError('destination registry secret has no SecretString (a JSON text is expected)');
    }
    let json: unknown;
    try {
      json = JSON.parse(out.SecretString);
    } catch {
      // JSON.parse's own message quotes the text, which may hold credentials: never pass it on.
      throw new DestinationRegistryError('destination registry secret is not valid JSON');
    }
    const registry = parseDestinationRegistry(json);
    this.cached = { until: this.now() + this.cacheMs, registry };
    return registry;
  }
}

/** The registry of this process: the Secrets Manager secret in AWS, else the file (embedded runtime). */
export function destinationRegistrySource(
  cfg: Pick<Config, 'region' | 'destinationsSecretArn' | 'destinationsFile'>,
): DestinationRegistrySource {
  if (cfg.destinationsSecretArn) {
    return new SecretsManagerDestinationRegistrySource(createSecretsManagerClient(cfg), cfg.destinationsSecretArn);
  }
  return new FileDestinationRegistrySource(cfg.destinationsFile ?? '.data/destinations.json');
}
