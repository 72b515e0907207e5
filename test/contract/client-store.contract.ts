/**
 * The behaviours every ClientStore promises (lambdas/storage/ports.ts): a client is created once, read
 * back as written, listed oldest first with the revoked ones, and revoked once (the first time
 * stands). Run against every adapter: the in-memory one of test/support and DynamoDB on dynalite.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { newApiKey, hashSecret } from '../../lambdas/auth/api-keys';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { ApiClient, ClientStore } from '../../lambdas/storage/ports';

export function newClient(overrides: Partial<ApiClient> = {}): ApiClient {
  const key = newApiKey();
  return {
    id: key.id,
    name: 'radiology-pacs',
    scopes: ['read', 'write'],
    secretHash: hashSecret(key.secret),
    createdAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

/** `makeStore` answers an empty store each time (a fresh table, or a fresh memory store). */
export function describeClientStoreContract(name: string, makeStore: () => ClientStore | Promise<ClientStore>): void {
  describe(`${name} (ClientStore contract)`, () => {
    let store: ClientStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('reads a created client back as written, and nothing for an unknown id', async () => {
      const client = newClient({ scopes: ['send', 'read'] });
      await store.create(client);
      expect(await store.get(client.id)).toEqual(client);
      expect(await store.get(newClient().id)).toBeUndefined();
    });

    it('keeps a client without scopes as one without scopes', async () => {
      const client = newClient({ scopes: [] });
      await store.create(client);
      expect((await store.get(client.id))?.scopes).toEqual([]);
    });

    it('refuses a second client with the same id, leaving the first unchanged', async () => {
      const first = newClient();
      await store.create(first);
      await expect(store.create({ ...first, name: 'other', secretHash: hashSecret('x') })).rejects.toBeInstanceOf(AlreadyExistsError);
      expect(await store.get(first.id)).toEqual(first);
    });

    it('lists every client oldest first, revoked ones included', async () => {
      const late = newClient({ name: 'late', createdAt: '2026-03-01T00:00:00.000Z' });
      const early = newClient({ name: 'early', createdAt: '2026-01-01T00:00:00.000Z' });
      const middle = newClient({ name: 'middle', createdAt: '2026-02-01T00:00:00.000Z' });
      for (const c of [late, early, middle]) await store.create(c);
      await store.revoke(middle.id, '2026-04-01T00:00:00.000Z');
      const listed = await store.list();
      expect(listed.map((c) => c.name)).toEqual(['early', 'middle', 'late']);
      expect(listed[1]).toEqual({ ...middle, revokedAt: '2026-04-01T00:00:00.000Z' });
    });

    it('lists an empty store as no clients', async () => {
      expect(await store.list()).toEqual([]);
    });

    it('revokes a client once: the first time stands', async () => {
      const client = newClient();
      await store.create(client);
      expect(await store.revoke(client.id, '2026-05-01T00:00:00.000Z')).toBe(true);
      expect(await store.revoke(client.id, '2026-06-01T00:00:00.000Z')).toBe(true);
      expect(await store.get(client.id)).toEqual({ ...client, revokedAt: '2026-05-01T00:00:00.000Z' });
    });

    it('answers false when revoking an unknown client, and creates nothing', async () => {
      const id = newClient().id;
      expect(await store.revoke(id, '2026-05-01T00:00:00.000Z')).toBe(false);
      expect(await store.get(id)).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });

    it('revoked at once by several callers, keeps one of their times', async () => {
      const client = newClient();
      await store.create(client);
      const times = ['2026-07-01T00:00:00.000Z', '2026-07-02T00:00:00.000Z', '2026-07-03T00:00:00.000Z'];
      expect(await Promise.all(times.map((t) => store.revoke(client.id, t)))).toEqual([true, true, true]);
      const revokedAt = (await store.get(client.id))?.revokedAt;
      expect(times).toContain(revokedAt);
      await store.revoke(client.id, '2027-01-01T00:00:00.000Z');
      expect((await store.get(client.id))?.revokedAt).toBe(revokedAt);
    });
  });
}
