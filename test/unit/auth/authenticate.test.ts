/**
 * Unit: the Authenticator (lambdas/auth/authenticate.ts) with the static token and API keys (no
 * network; OIDC tokens are tested against a real provider in test/integration/auth), its cache, and
 * authorize's 403; share links' tokens whatever AUTH names.
 */
import { describe, expect, it, vi } from 'vitest';
import { hashSecret, newApiKey } from '../../../lambdas/auth/api-keys';
import { authorize, checksCredentials, createAuthenticator, forgetShareLink, type Principal } from '../../../lambdas/auth/authenticate';
import { newShareToken } from '../../../lambdas/auth/share-tokens';
import type { ShareLink } from '../../../lambdas/storage/ports';
import { MemoryShareLinkStore } from '../../support/memory-share-links';
import { loadConfig } from '../../../lambdas/config';
import { ForbiddenError, UnauthorizedError } from '../../../lambdas/dicomweb/errors';
import { MemoryClientStore } from '../../support/memory-clients';

/** The memory ClientStore, its reads counted (to see the cache at work). */
function memoryStore() {
  const store = new MemoryClientStore();
  return Object.assign(store, { get: vi.fn(store.get.bind(store)) });
}

const TOKEN = 'static-token-of-the-archive';
const config = (env: Record<string, string>) => loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't', ...env });

async function withClient(store: MemoryClientStore, name: string, scopes: string[]) {
  const key = newApiKey();
  await store.create({ id: key.id, name, scopes, secretHash: hashSecret(key.secret), createdAt: new Date().toISOString() });
  return key;
}

async function rejection(p: Promise<unknown>): Promise<UnauthorizedError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthorizedError);
  return error as UnauthorizedError;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the static token (AUTH=token)', () => {
  const auth = createAuthenticator(config({ AUTH_TOKEN: TOKEN }));

  it('holds every scope and names no secret', async () => {
    const p = await auth.authenticate(`Bearer ${TOKEN}`);
    expect(p).toMatchObject({
      mechanism: 'token',
      principal: 'static-token',
      scopes: ['read', 'write', 'delete', 'send', 'share', 'admin'],
    });
    expect(JSON.stringify(p)).not.toContain(TOKEN);
  });

  it('refuses another token, a prefix of it, and an API key it does not accept', async () => {
    for (const header of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      'Bearer other',
      `Bearer ${newApiKey().key}`,
      basic('x', TOKEN),
    ]) {
      const e = await rejection(auth.authenticate(header));
      expect(e.message).not.toContain(TOKEN);
    }
    expect((await rejection(auth.authenticate(`Bearer ${newApiKey().key}`))).message).toMatch(/does not accept API keys/);
    expect((await rejection(auth.authenticate(basic('x', TOKEN)))).message).toMatch(/Basic is accepted only with an API key/);
    expect((await rejection(auth.authenticate(undefined))).headers['WWW-Authenticate']).toBe('Bearer realm="dicomweb"');
  });
});

describe('API keys (AUTH=api-keys)', () => {
  const apiKeysConfig = config({ AUTH: 'api-keys,token', AUTH_TOKEN: TOKEN, CLIENTS_TABLE_NAME: 'clients' });

  it('accepts a key as Bearer or as the Basic password, with the client name or no user name', async () => {
    const store = memoryStore();
    const key = await withClient(store, 'radiology-pacs', ['write', 'read']);
    const auth = createAuthenticator(apiKeysConfig, { clientStore: store });
    for (const header of [`Bearer ${key.key}`, basic('radiology-pacs', key.key), basic('', key.key)]) {
      expect(await auth.authenticate(header)).toMatchObject({ mechanism: 'api-keys', principal: key.id, scopes: ['read', 'write'] });
    }
    // The static token still works beside the keys.
    expect((await auth.authenticate(`Bearer ${TOKEN}`)).mechanism).toBe('token');
  });

  it('refuses a wrong Basic user, a wrong secret, an unknown id, a malformed key and a revoked key with 401', async () => {
    const store = memoryStore();
    const key = await withClient(store, 'radiology-pacs', ['write']);
    const revoked = await withClient(store, 'old-router', ['write']);
    await store.revoke(revoked.id, new Date().toISOString());
    const auth = createAuthenticator(apiKeysConfig, { clientStore: store });
    const cases: [string, RegExp][] = [
      [basic('someone-else', key.key), /Basic user name is not the API key's client/],
      [`Bearer dwk_${key.id}_${'0'.repeat(64)}`, /API key is not valid/],
      [`Bearer ${newApiKey().key}`, /API key is not valid/],
      [`Bearer dwk_short_abc`, /API key is malformed/],
      [`Bearer ${revoked.key}`, /API key has been revoked/],
      [basic('old-router', revoked.key), /API key has been revoked/],
    ];
    for (const [header, message] of cases) {
      const e = await rejection(auth.authenticate(header));
      expect(e.message).toMatch(message);
      expect(e.headers['WWW-Authenticate']).toMatch(/^Bearer realm="dicomweb", error="invalid_token"/);
      expect(e.message).not.toContain(key.secret);
    }
  });

  it('keeps a result 60 s at most, so a revoked key stops working within a minute', async () => {
    const store = memoryStore();
    const key = await withClient(store, 'modality', ['write']);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const auth = createAuthenticator(apiKeysConfig, { clientStore: store, now: () => now });
    await auth.authenticate(`Bearer ${key.key}`);
    await auth.authenticate(`Bearer ${key.key}`);
    expect(store.get.mock.calls.length).toBe(1);
    await store.revoke(key.id, new Date(now).toISOString());
    now += 59_000;
    expect((await auth.authenticate(`Bearer ${key.key}`)).principal).toBe(key.id);
    now += 2_000;
    expect((await rejection(auth.authenticate(`Bearer ${key.key}`))).message).toMatch(/revoked/);
    expect(store.get.mock.calls.length).toBe(2);
  });

  it('keeps a bounded number of results, dropping the oldest', async () => {
    const store = memoryStore();
    const keys = [await withClient(store, 'a', ['read']), await withClient(store, 'b', ['read']), await withClient(store, 'c', ['read'])];
    const auth = createAuthenticator(apiKeysConfig, { clientStore: store, cacheSize: 2 });
    for (const k of keys) await auth.authenticate(`Bearer ${k.key}`);
    expect(store.get.mock.calls.length).toBe(3);
    await auth.authenticate(`Bearer ${keys[2]!.key}`);
    expect(store.get.mock.calls.length).toBe(3);
    await auth.authenticate(`Bearer ${keys[0]!.key}`);
    expect(store.get.mock.calls.length).toBe(4);
  });

  it('never caches a failure: a key created after a refusal works at once', async () => {
    const store = memoryStore();
    const auth = createAuthenticator(apiKeysConfig, { clientStore: store });
    const key = newApiKey();
    await rejection(auth.authenticate(`Bearer ${key.key}`));
    await store.create({
      id: key.id,
      name: 'late',
      scopes: ['read'],
      secretHash: hashSecret(key.secret),
      createdAt: new Date().toISOString(),
    });
    expect((await auth.authenticate(`Bearer ${key.key}`)).principal).toBe(key.id);
  });
});

describe('authorize', () => {
  const principal: Principal = { mechanism: 'oidc', principal: 'reader', scopes: ['read'], expiresAt: 0 };

  it('passes a scope the principal holds', () => {
    expect(() => authorize(principal, 'read')).not.toThrow();
  });

  it('answers 403 naming the scope required, with the insufficient_scope challenge (RFC 6750 3.1)', () => {
    let error: unknown;
    try {
      authorize(principal, 'write', 'dicomweb/');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ForbiddenError);
    const e = error as ForbiddenError;
    expect(e.status).toBe(403);
    expect(e.message).toMatch(/needs the "write" scope \(Store \(STOW-RS\).*holds: read/);
    expect(e.headers['WWW-Authenticate']).toBe('Bearer realm="dicomweb", error="insufficient_scope", scope="dicomweb/write"');
    expect(() => authorize({ scopes: [] }, 'admin')).toThrow(/holds: none/);
  });
});

describe('checksCredentials', () => {
  it('is false for none and iam, true for the credential mechanisms', () => {
    expect(checksCredentials(config({}))).toBe(false);
    expect(checksCredentials(config({ AUTH: 'iam' }))).toBe(false);
    expect(checksCredentials(config({ AUTH_TOKEN: TOKEN }))).toBe(true);
    expect(checksCredentials(config({ AUTH: 'oidc', OIDC_ISSUER: 'https://idp.example.org', OIDC_AUDIENCE: 'a' }))).toBe(true);
  });
});

describe('share links (whatever AUTH names)', () => {
  const STUDY = '1.2.826.0.1.3680043.8.498.7';
  async function linked(store: MemoryShareLinkStore, overrides: Partial<ShareLink> = {}) {
    const token = newShareToken();
    await store.create({
      id: token.id,
      secretHash: hashSecret(token.secret),
      studyInstanceUID: STUDY,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'token:static-token',
      expiresAt: '2026-01-08T00:00:00.000Z',
      useCount: 0,
      ...overrides,
    });
    return token;
  }
  const at = (iso: string) => () => Date.parse(iso);

  it.each<Record<string, string>>([{ AUTH_TOKEN: TOKEN }, { AUTH: 'api-keys', CLIENTS_TABLE_NAME: 'c' }])(
    'gives read of its one study until it expires (%o)',
    async (env) => {
      const shareLinkStore = new MemoryShareLinkStore();
      const token = await linked(shareLinkStore);
      let now = Date.parse('2026-01-07T23:59:00.000Z');
      const auth = createAuthenticator(config(env), { shareLinkStore, now: () => now });
      const p = await auth.authenticate(`Bearer ${token.key}`);
      expect(p).toEqual({
        mechanism: 'share',
        principal: token.id,
        scopes: ['read'],
        study: STUDY,
        expiresAt: Date.parse('2026-01-08T00:00:00.000Z') / 1000,
      });
      now = Date.parse('2026-01-08T00:00:00.000Z');
      expect((await rejection(auth.authenticate(`Bearer ${token.key}`))).message).toMatch(/expired/);
    },
  );

  it('refuses a revoked link at once in this process, a wrong secret, an unknown id and Basic', async () => {
    const shareLinkStore = new MemoryShareLinkStore();
    const token = await linked(shareLinkStore);
    const auth = createAuthenticator(config({ AUTH_TOKEN: TOKEN }), { shareLinkStore, now: at('2026-01-02T00:00:00.000Z') });
    await auth.authenticate(`Bearer ${token.key}`);
    await shareLinkStore.revoke(token.id, '2026-01-02T00:00:00.000Z');
    forgetShareLink(token.id);
    expect((await rejection(auth.authenticate(`Bearer ${token.key}`))).message).toMatch(/revoked/);
    const wrong = `dws_${token.id}_${'0'.repeat(64)}`;
    expect((await rejection(auth.authenticate(`Bearer ${wrong}`))).message).toMatch(/not valid/);
    expect((await rejection(auth.authenticate(`Bearer ${newShareToken().key}`))).message).toMatch(/not valid/);
    expect((await rejection(auth.authenticate(`Bearer dws_nope`))).message).toMatch(/malformed/);
    await rejection(auth.authenticate(basic('x', token.key)));
  });

  it('is refused by an archive without share links', async () => {
    const auth = createAuthenticator(config({ AUTH_TOKEN: TOKEN }));
    expect((await rejection(auth.authenticate(`Bearer ${newShareToken().key}`))).message).toMatch(/does not accept share links/);
  });

  it('counts every use, written at most once a minute', async () => {
    const shareLinkStore = new MemoryShareLinkStore();
    const record = vi.spyOn(shareLinkStore, 'recordUses');
    const token = await linked(shareLinkStore);
    let now = Date.parse('2026-01-02T00:00:00.000Z');
    const auth = createAuthenticator(config({ AUTH_TOKEN: TOKEN }), { shareLinkStore, now: () => now });
    for (let i = 0; i < 5; i++) await auth.authenticate(`Bearer ${token.key}`);
    expect(record).toHaveBeenCalledTimes(1);
    now += 60_000;
    await auth.authenticate(`Bearer ${token.key}`);
    expect(record).toHaveBeenCalledTimes(2);
    expect(await shareLinkStore.get(token.id)).toMatchObject({ useCount: 6, lastUsedAt: '2026-01-02T00:01:00.000Z' });
  });
});
