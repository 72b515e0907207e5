/**
 * Unit: the management of share links (lambdas/auth/share-links-service.ts) over the memory stores:
 * a link made only for a stored study, its token and viewer address answered once and only the hash of
 * its secret kept, lifetimes within SHARE_MAX_EXPIRY, lists with each link's state and no hash,
 * revocation keeping the first time.
 */
import { describe, expect, it } from 'vitest';
import { secretMatches } from '../../../lambdas/auth/api-keys';
import { ShareLinksService, viewerLink } from '../../../lambdas/auth/share-links-service';
import { parseShareToken } from '../../../lambdas/auth/share-tokens';
import { DicomwebError } from '../../../lambdas/dicomweb/errors';
import { bodyOf, type DicomwebResponse } from '../../../lambdas/dicomweb/messages';
import type { IndexEntry } from '../../../lambdas/storage/ports';
import { MemoryShareLinkStore } from '../../support/memory-share-links';

const STUDY = '1.2.826.0.1.3680043.8.498.11';
const BASE = 'https://archive.example.org/dicomweb';

function setup(startIso = '2026-01-01T00:00:00.000Z') {
  const store = new MemoryShareLinkStore();
  let now = new Date(startIso);
  const index = { getStudy: async (uid: string) => (uid === STUDY ? ({} as IndexEntry) : undefined) };
  const service = new ShareLinksService(store, index, { maxLifetimeSeconds: 30 * 86400, checksCredentials: true, now: () => now });
  return { store, service, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

function createRequest(body: unknown, contentType = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { contentType, accept: undefined, body: bodyOf(new TextEncoder().encode(text)), baseUrl: BASE, createdBy: 'oidc:alice' };
}

const payload = (r: DicomwebResponse) => JSON.parse(String(r.body));

async function failure(p: Promise<unknown>): Promise<DicomwebError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DicomwebError);
  return error as DicomwebError;
}

describe('ShareLinksService.create', () => {
  it('answers 201 with the link, its token and the viewer address, and keeps only the hash of its secret', async () => {
    const { store, service } = setup();
    const r = await service.create(createRequest({ study: STUDY, expires: '2d', note: 'second opinion' }));
    expect(r.status).toBe(201);
    expect(r.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json' });
    const created = payload(r);
    expect(created).toMatchObject({
      studyInstanceUID: STUDY,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'oidc:alice',
      expiresAt: '2026-01-03T00:00:00.000Z',
      note: 'second opinion',
      useCount: 0,
      state: 'active',
    });
    expect(created.secretHash).toBeUndefined();
    const token = parseShareToken(created.token)!;
    expect(token.id).toBe(created.id);
    expect(created.link).toBe(`${BASE}/viewer/viewer?StudyInstanceUIDs=${STUDY}&token=${created.token}`);
    const stored = await store.get(created.id);
    expect(secretMatches(token.secret, stored!.secretHash)).toBe(true);
    expect(JSON.stringify(await store.list())).not.toContain(token.secret);
  });

  it('lives 7 days unless told', async () => {
    const { service } = setup();
    expect(payload(await service.create(createRequest({ study: STUDY }))).expiresAt).toBe('2026-01-08T00:00:00.000Z');
  });

  it('answers 404 for a study the archive does not hold, storing nothing', async () => {
    const { store, service } = setup();
    const error = await failure(service.create(createRequest({ study: '1.2.3.4' })));
    expect(error.status).toBe(404);
    expect(await store.list()).toEqual([]);
  });

  it.each([
    [{ study: STUDY, expires: '7 days' }, 400, 'expires'],
    [{ study: STUDY, expires: '5w' }, 400, 'expires'],
    [{ study: STUDY, expires: 7 }, 400, 'expires'],
    [{ study: 'not-a-uid' }, 400, 'study'],
    [{ study: STUDY, note: 'x'.repeat(501) }, 400, 'note'],
    [{ study: STUDY, scopes: ['write'] }, 400, 'scopes'],
  ])('answers %o with %i naming %s', async (body, status, target) => {
    const { service } = setup();
    const error = await failure(service.create(createRequest(body)));
    expect(error.status).toBe(status);
    expect(error.details.map((d) => d.target)).toContain(target);
  });

  it('answers 415 for a body that is not JSON, 400 for malformed JSON', async () => {
    const { service } = setup();
    expect((await failure(service.create(createRequest({ study: STUDY }, 'text/plain')))).status).toBe(415);
    expect((await failure(service.create(createRequest('{"study":')))).status).toBe(400);
  });
});

describe('ShareLinksService.list and revoke', () => {
  it('lists every link with its state and without hashes; revoke answers 204, then 404 for no such link', async () => {
    const { service, advance } = setup();
    const short = payload(await service.create(createRequest({ study: STUDY, expires: '1h' })));
    advance(1000);
    const revoked = payload(await service.create(createRequest({ study: STUDY })));
    advance(1000);
    const active = payload(await service.create(createRequest({ study: STUDY })));
    expect((await service.revoke(revoked.id)).status).toBe(204);
    expect((await service.revoke(revoked.id)).status).toBe(204);
    advance(2 * 3600 * 1000);
    const { shares } = payload(await service.list({ accept: 'application/json' }));
    expect(shares.map((s: { id: string; state: string }) => [s.id, s.state])).toEqual([
      [short.id, 'expired'],
      [revoked.id, 'revoked'],
      [active.id, 'active'],
    ]);
    expect(JSON.stringify(shares)).not.toMatch(/secretHash|dws_/);
    expect((await failure(service.revoke('abcdefghijkl'))).status).toBe(404);
    expect((await failure(service.revoke('../x'))).status).toBe(404);
  });
});

describe('viewerLink', () => {
  it('opens the viewer under the base on the study, the token in its query', () => {
    expect(viewerLink('http://127.0.0.1:8080/', '1.2.3', 'dws_a_b')).toBe(
      'http://127.0.0.1:8080/viewer/viewer?StudyInstanceUIDs=1.2.3&token=dws_a_b',
    );
  });

  it('opens the viewer where VIEWER_URL says it is served (a distribution serves it at its root)', () => {
    const link = 'https://d1.cloudfront.net/viewer?StudyInstanceUIDs=1.2.3&token=dws_a_b';
    expect(viewerLink('https://d1.cloudfront.net/dicomweb', '1.2.3', 'dws_a_b', 'https://d1.cloudfront.net/')).toBe(link);
    expect(viewerLink('https://d1.cloudfront.net/dicomweb', '1.2.3', 'dws_a_b', 'https://d1.cloudfront.net')).toBe(link);
  });
});
