/**
 * The behaviours every ShareLinkStore promises (lambdas/storage/share-link-store.ts): a link is created
 * once, read back as written, listed oldest first with the revoked and expired ones, revoked once (the
 * first time stands), its uses added up with the latest time kept. Run against every adapter: the
 * in-memory one of test/support, the local engine's SQLite and DynamoDB on dynalite.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../lambdas/auth/api-keys';
import { newShareToken } from '../../lambdas/auth/share-tokens';
import { AlreadyExistsError } from '../../lambdas/storage/errors';
import type { ShareLink, ShareLinkStore } from '../../lambdas/storage/ports';

export function newShareLink(overrides: Partial<ShareLink> = {}): ShareLink {
  const token = newShareToken();
  return {
    id: token.id,
    secretHash: hashSecret(token.secret),
    studyInstanceUID: '1.2.826.0.1.3680043.8.498.100',
    createdAt: '2026-01-02T03:04:05.000Z',
    createdBy: 'oidc:alice',
    expiresAt: '2026-01-09T03:04:05.000Z',
    useCount: 0,
    ...overrides,
  };
}

/** `makeStore` answers an empty store each time (a fresh table or file, or a fresh memory store). */
export function describeShareLinkStoreContract(name: string, makeStore: () => ShareLinkStore | Promise<ShareLinkStore>): void {
  describe(`${name} (ShareLinkStore contract)`, () => {
    let store: ShareLinkStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('reads a created link back as written, with or without its optional fields, and nothing for an unknown id', async () => {
      const bare = newShareLink();
      const full = newShareLink({ note: 'second opinion, Dr. Who', lastUsedAt: '2026-01-03T00:00:00.000Z', useCount: 3 });
      await store.create(bare);
      await store.create(full);
      expect(await store.get(bare.id)).toEqual(bare);
      expect(await store.get(full.id)).toEqual(full);
      expect(await store.get(newShareLink().id)).toBeUndefined();
    });

    it('refuses a second link with the same id, leaving the first unchanged', async () => {
      const first = newShareLink();
      await store.create(first);
      await expect(store.create({ ...first, studyInstanceUID: '1.2.3', secretHash: hashSecret('x') })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      expect(await store.get(first.id)).toEqual(first);
    });

    it('lists every link oldest first, revoked and expired ones included; an empty store as none', async () => {
      expect(await store.list()).toEqual([]);
      const late = newShareLink({ createdAt: '2026-03-01T00:00:00.000Z' });
      const early = newShareLink({ createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z' });
      const middle = newShareLink({ createdAt: '2026-02-01T00:00:00.000Z' });
      for (const l of [late, early, middle]) await store.create(l);
      await store.revoke(middle.id, '2026-04-01T00:00:00.000Z');
      expect(await store.list()).toEqual([early, { ...middle, revokedAt: '2026-04-01T00:00:00.000Z' }, late]);
    });

    it('revokes a link once: the first time stands; false for an unknown link, creating nothing', async () => {
      const link = newShareLink();
      await store.create(link);
      expect(await store.revoke(link.id, '2026-05-01T00:00:00.000Z')).toBe(true);
      expect(await store.revoke(link.id, '2026-06-01T00:00:00.000Z')).toBe(true);
      expect(await store.get(link.id)).toEqual({ ...link, revokedAt: '2026-05-01T00:00:00.000Z' });
      const unknown = newShareLink().id;
      expect(await store.revoke(unknown, '2026-05-01T00:00:00.000Z')).toBe(false);
      expect(await store.get(unknown)).toBeUndefined();
    });

    it('adds up uses, keeping the latest time, and records nothing for an unknown link', async () => {
      const link = newShareLink();
      await store.create(link);
      await store.recordUses(link.id, 3, '2026-01-03T00:00:00.000Z');
      await store.recordUses(link.id, 2, '2026-01-02T00:00:00.000Z');
      await Promise.all([1, 1, 1].map((n) => store.recordUses(link.id, n, '2026-01-04T00:00:00.000Z')));
      expect(await store.get(link.id)).toEqual({ ...link, useCount: 8, lastUsedAt: '2026-01-04T00:00:00.000Z' });
      const unknown = newShareLink().id;
      await store.recordUses(unknown, 1, '2026-01-04T00:00:00.000Z');
      expect(await store.get(unknown)).toBeUndefined();
      expect(await store.list()).toHaveLength(1);
    });
  });
}
