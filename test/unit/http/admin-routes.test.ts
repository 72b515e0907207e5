/**
 * Unit: the admin routes (API key clients, share links) are served beside DICOMweb, require the admin
 * scope (share links: the share scope), and
 * stay out of Retrieve Capabilities (PS3.18 8.9 describes the DICOMweb services only).
 */
import { describe, expect, it } from 'vitest';
import { capabilityTree } from '../../../lambdas/dicomweb/capabilities';
import { operations } from '../../../lambdas/handlers/capabilities';
import { dicomwebRoutes, requiredScope, routes, routesForPath } from '../../../lambdas/http/routes';
import { bodyOf } from '../../../lambdas/dicomweb/messages';

const admin = routes.filter((r) => r.group === 'admin');

describe('admin routes', () => {
  it('are POST and GET /admin/clients and DELETE /admin/clients/{clientId}, each requiring admin; the same of shares, requiring share', () => {
    expect(admin.map((r) => `${r.method} ${r.path} ${r.transaction} ${requiredScope(r)}`).sort()).toEqual([
      'DELETE /admin/clients/{clientId} RevokeClient admin',
      'DELETE /admin/shares/{shareId} RevokeShare share',
      'GET /admin/clients ListClients admin',
      'GET /admin/shares ListShares share',
      'POST /admin/clients AddClient admin',
      'POST /admin/shares CreateShare share',
    ]);
    expect(routes.filter((r) => r.group !== 'admin').map(requiredScope)).not.toContain('admin');
    expect(routesForPath('/admin/clients/abc123def456')[0]?.pathParameters).toEqual({ clientId: 'abc123def456' });
  });

  it('are neither described by Retrieve Capabilities nor given an OPTIONS route', async () => {
    expect(dicomwebRoutes.some((r) => r.path.startsWith('/admin'))).toBe(false);
    expect(routes.some((r) => r.method === 'OPTIONS' && r.path.startsWith('/admin'))).toBe(false);
    expect(JSON.stringify(capabilityTree(dicomwebRoutes))).not.toContain('admin');
    const answer = await operations.RetrieveCapabilities(
      {
        method: 'OPTIONS',
        path: '/',
        resource: '/',
        pathParameters: {},
        query: new Map(),
        headers: { accept: 'application/json' },
        body: bodyOf(new Uint8Array()),
        baseUrl: 'http://127.0.0.1:8080',
      },
      {},
    );
    expect(String(answer.body)).toContain('studies');
    expect(String(answer.body)).not.toMatch(/admin|Client/);
  });
});
