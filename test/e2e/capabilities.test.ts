/** e2e: Retrieve Capabilities (PS3.18 8.9) and Allow headers over HTTP; answers agree with the route table. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { dicomwebRoutes } from '../../lambdas/http/routes';
import { tempArchive } from '../support/http';

let archive: Awaited<ReturnType<typeof tempArchive>>;
beforeAll(async () => (archive = await tempArchive()));
afterAll(async () => archive?.close());

describe('Retrieve Capabilities', () => {
  it('OPTIONS on the service root: WADL naming every resource of the route table', async () => {
    const r = await fetch(`${archive.url}/`, { method: 'OPTIONS' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.sun.wadl+xml');
    const wadl = await r.text();
    for (const segment of new Set(dicomwebRoutes.flatMap((route) => route.path.split('/').filter(Boolean)))) {
      expect(wadl).toContain(`<resource path="${segment}">`);
    }
    // The archive's management (API key clients) is not a DICOMweb service.
    expect(wadl).not.toContain('admin');
    expect(wadl).toContain('title="Send"');
  });

  it('OPTIONS on a resource: its description as JSON on request, with Allow', async () => {
    const study = newUid();
    const r = await fetch(`${archive.url}/studies/${study}`, { method: 'OPTIONS', headers: { Accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('allow')?.split(', ').sort()).toEqual(['DELETE', 'GET', 'OPTIONS', 'POST']);
    const body = (await r.json()) as { base: string; resource: unknown };
    expect(body.base).toBe(`${archive.url}/studies/${study}`);
    expect(JSON.stringify(body.resource)).toContain('RetrieveStudy');
  });

  it('406 for a representation it cannot produce', async () => {
    expect((await fetch(`${archive.url}/studies`, { method: 'OPTIONS', headers: { Accept: 'image/png' } })).status).toBe(406);
  });

  it('every response carries Allow for its resource', async () => {
    const search = await fetch(`${archive.url}/studies`);
    expect(search.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'OPTIONS', 'POST']);
    const missing = await fetch(`${archive.url}/studies/${newUid()}/metadata`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('allow')).toBe('GET, OPTIONS');
  });
});
