/**
 * In-memory ShareLinkStore with the semantics of the DynamoDB adapter
 * (lambdas/storage/dynamodb-share-links.ts), for unit tests; test/contract/share-link-store.contract.ts
 * holds them all to the same behaviours.
 */
import { oldestFirst } from '../../lambdas/storage/dynamodb-clients';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { ShareLink, ShareLinkStore } from '../../lambdas/storage/ports';

export class MemoryShareLinkStore implements ShareLinkStore {
  private readonly links = new Map<string, ShareLink>();

  async create(link: ShareLink): Promise<void> {
    if (this.links.has(link.id)) throw new AlreadyExistsError(`share link ${link.id} already exists`);
    this.links.set(link.id, structuredClone(link));
  }

  async get(id: string): Promise<ShareLink | undefined> {
    const link = this.links.get(id);
    return link ? structuredClone(link) : undefined;
  }

  async list(): Promise<ShareLink[]> {
    return [...this.links.values()].map((l) => structuredClone(l)).sort(oldestFirst);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const link = this.links.get(id);
    if (!link) return false;
    if (link.revokedAt === undefined) this.links.set(id, { ...link, revokedAt: at });
    return true;
  }

  async recordUses(id: string, count: number, at: string): Promise<void> {
    const link = this.links.get(id);
    if (!link) return;
    const lastUsedAt = link.lastUsedAt !== undefined && link.lastUsedAt > at ? link.lastUsedAt : at;
    this.links.set(id, { ...link, useCount: link.useCount + count, lastUsedAt });
  }
}
