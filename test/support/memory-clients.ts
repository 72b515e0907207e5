/**
 * In-memory ClientStore with the semantics of the DynamoDB adapter (lambdas/storage/dynamodb-clients.ts):
 * create once (AlreadyExistsError), revoke keeps the first time, list oldest first. For unit tests;
 * test/contract/client-store.contract.ts holds both to the same behaviours.
 */
import { oldestFirst } from '../../lambdas/storage/dynamodb-clients';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { ApiClient, ClientStore } from '../../lambdas/storage/ports';

export class MemoryClientStore implements ClientStore {
  private readonly clients = new Map<string, ApiClient>();

  async create(client: ApiClient): Promise<void> {
    if (this.clients.has(client.id)) throw new AlreadyExistsError(`client ${client.id} already exists`);
    this.clients.set(client.id, structuredClone(client));
  }

  async get(id: string): Promise<ApiClient | undefined> {
    const c = this.clients.get(id);
    return c ? structuredClone(c) : undefined;
  }

  async list(): Promise<ApiClient[]> {
    return [...this.clients.values()].map((c) => structuredClone(c)).sort(oldestFirst);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const c = this.clients.get(id);
    if (!c) return false;
    if (c.revokedAt === undefined) this.clients.set(id, { ...c, revokedAt: at });
    return true;
  }
}
