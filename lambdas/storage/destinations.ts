/**
 * Where the SEND-RS destination registry comes from: a JSON file in the embedded runtime, a Secrets
 * Manager secret in AWS (docs/architecture.md, SEND-RS). The registry's format is the Send layer's
 * (lambdas/send/destinations.ts, handed in as a RegistryFormat): these sources read, cache and turn
 * the text into JSON, and their messages never quote it, so no error from here carries a credential.
 */
import { readFile, stat } from 'node:fs/promises';
import { GetSecretValueCommand, InternalServiceError, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config';
import { callAws, clientOptions, isThrottlingException } from './aws-calls';
import { recordCalls } from './call-recorder';
import type { RegistryFormat, RegistrySource } from './ports';

/** The Secrets Manager client of this process; it has no emulator (the embedded runtime reads a file). */
export function createSecretsManagerClient(config: Pick<Config, 'region'>): SecretsManagerClient {
  return recordCalls(new SecretsManagerClient(clientOptions(config, undefined)));
}

/**
 * The registry file of the embedded runtime, re-read whenever its modification time (or size)
 * changes, so an operator can edit it while the archive runs. A missing file is an empty registry.
 */
export class FileDestinationRegistrySource<R> implements RegistrySource<R> {
  private cached?: { readonly version: string; readonly registry: R };

  constructor(
    private readonly path: string,
    private readonly format: RegistryFormat<R>,
  ) {}

  async load(): Promise<R> {
    const version = await this.version();
    if (this.cached?.version === version) return this.cached.registry;
    // Read after stat: an edit in between is caught by the next load's stat.
    const registry = await this.read();
    this.cached = { version, registry };
    return registry;
  }

  private async read(): Promise<R> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.format.empty;
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.format.invalid(`${this.path}: not valid JSON`);
    }
    return this.format.parse(json);
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
export class SecretsManagerDestinationRegistrySource<R> implements RegistrySource<R> {
  private cached?: { readonly until: number; readonly registry: R };
  private inFlight?: Promise<R>;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    private readonly secretArn: string,
    private readonly format: RegistryFormat<R>,
    options: SecretsManagerDestinationRegistryOptions = {},
  ) {
    this.cacheMs = (options.cacheSeconds ?? 300) * 1000;
    this.now = options.now ?? Date.now;
  }

  load(): Promise<R> {
    if (this.cached && this.now() < this.cached.until) return Promise.resolve(this.cached.registry);
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<R> {
    const out = await callAws(
      'Secrets Manager',
      () => this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn })),
      isSecretsManagerUnavailable,
    );
    if (typeof out.SecretString !== 'string') {
      throw this.format.invalid('destination registry secret has no SecretString (a JSON text is expected)');
    }
    let json: unknown;
    try {
      json = JSON.parse(out.SecretString);
    } catch {
      // JSON.parse's own message quotes the text, which may hold credentials: never pass it on.
      throw this.format.invalid('destination registry secret is not valid JSON');
    }
    const registry = this.format.parse(json);
    this.cached = { until: this.now() + this.cacheMs, registry };
    return registry;
  }
}
