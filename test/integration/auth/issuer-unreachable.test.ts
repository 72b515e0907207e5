/**
 * Integration: an embedded archive in AUTH=oidc whose issuer cannot be reached answers 503 with
 * Retry-After and a Status Report (the archive cannot check the token; the client may retry), and
 * still 401 for a credential it can judge without the issuer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempArchive } from '../../support/http';
import { startOidcProvider, type TestOidcProvider } from '../../support/oidc-provider';

let idp: TestOidcProvider;
let archive: Awaited<ReturnType<typeof tempArchive>>;
let deadIssuer: string;
beforeAll(async () => {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  deadIssuer = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise<void>((r) => s.close(() => r()));
  idp = await startOidcProvider();
  archive = await tempArchive({ env: { AUTH: 'oidc', OIDC_ISSUER: deadIssuer, OIDC_AUDIENCE: idp.audience } });
}, 60_000);
afterAll(async () => {
  await archive?.close();
  await idp?.close();
});

describe('an issuer that cannot be reached', () => {
  it('[security.503] answers 503 with Retry-After and a Status Report to a well-formed token', async () => {
    // Signed by a live provider's key, but claiming the dead issuer the archive trusts.
    const token = await idp.mint({ iss: deadIssuer });
    const answer = await fetch(`${archive.url}/studies`, { headers: { Authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await answer.json()) as { detail: string }).detail).toMatch(/issuer cannot be reached/);
  });

  it('still answers 401 to a missing or malformed credential', async () => {
    expect((await fetch(`${archive.url}/studies`)).status).toBe(401);
    expect((await fetch(`${archive.url}/studies`, { headers: { Authorization: 'Bearer abc' } })).status).toBe(401);
  });
});
