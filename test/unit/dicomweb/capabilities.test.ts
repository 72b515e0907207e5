/** Unit: the Retrieve Capabilities description (PS3.18 8.9) generated from the route table. */
import { describe, expect, it } from 'vitest';
import {
  capabilityTree,
  negotiateCapabilities,
  SERVICE_ROOT,
  toWadl,
  WADL,
  type CapabilityResource,
} from '../../../lambdas/dicomweb/capabilities';
import { NotAcceptableError } from '../../../lambdas/dicomweb/errors';
import { dicomwebRoutes as routes, allowedMethods } from '../../../lambdas/http/routes';

/** "METHOD /path" of every method in a tree. */
function methodsIn(r: CapabilityResource, prefix = ''): string[] {
  const path = r.path === SERVICE_ROOT ? '' : `${prefix}/${r.path}`;
  return [...r.methods.map((m) => `${m.name} ${path || '/'}`), ...r.resources.flatMap((c) => methodsIn(c, path))];
}

describe('capabilityTree', () => {
  it('describes exactly the routes of the table, from the service root', () => {
    const described = methodsIn(capabilityTree(routes)).sort();
    expect(described).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('lists Send and Check Send Result for the Studies resources (Sup 248 Table H-1)', () => {
    const transactions = JSON.stringify(capabilityTree(routes));
    expect(transactions).toContain('"transaction":"Send"');
    expect(transactions).toContain('"transaction":"CheckSendResult"');
  });

  it('advertises the upload path, an extension: its four transactions and their media types', () => {
    const described = methodsIn(capabilityTree(routes));
    for (const m of [
      'POST /uploads',
      'POST /studies/{study}/uploads',
      'GET /uploads/{upload}',
      'POST /uploads/{upload}/complete',
      'DELETE /uploads/{upload}',
    ]) {
      expect(described).toContain(m);
    }
    const tree = JSON.stringify(capabilityTree(routes, '/uploads'));
    expect(tree).toContain('"transaction":"CreateUpload","request":"application/json","response":["application/json"]');
    expect(tree).toContain('"transaction":"CompleteUpload","response":["application/dicom+json","application/json"]');
  });

  it('scoped to a resource, describes it and what lies under it only', () => {
    const tree = capabilityTree(routes, '/studies/{study}/series/{series}');
    const described = methodsIn({ ...tree, path: SERVICE_ROOT }).map((m) => m.split(' ')[0]);
    expect(described).toContain('GET');
    expect(described).toContain('DELETE');
    expect(JSON.stringify(tree)).not.toContain('SearchForStudies');
    expect(JSON.stringify(tree)).toContain('RetrieveFrames');
  });
});

describe('WADL and negotiation', () => {
  it('renders WADL with the base URL and template parameters', () => {
    const wadl = toWadl(capabilityTree(routes), 'http://127.0.0.1:8080', '/');
    expect(wadl).toMatch(/^<\?xml/);
    expect(wadl).toContain('<resources base="http://127.0.0.1:8080/">');
    expect(wadl).toContain('<resource path="studies">');
    expect(wadl).toContain('<param name="study" style="template"');
    expect(wadl).toContain('mediaType="multipart/related; type=&quot;application/dicom&quot;"');
  });

  it('lists the single part application/dicom for the Instance resource only (PS3.18 10.4.4)', () => {
    const wadl = toWadl(capabilityTree(routes), 'http://127.0.0.1:8080', '/');
    const method = (name: string) => wadl.slice(wadl.indexOf(`<doc title="${name}"/>`)).split('</method>')[0]!;
    expect(method('RetrieveInstance')).toContain('<representation mediaType="application/dicom"/>');
    expect(method('RetrieveSeries')).not.toContain('<representation mediaType="application/dicom"/>');
  });

  it('describes the rendered and thumbnail resources with their media types and query parameters, annotation not among them', () => {
    const wadl = toWadl(capabilityTree(routes), 'http://127.0.0.1:8080', '/');
    for (const path of ['rendered', 'thumbnail']) expect(wadl).toContain(`<resource path="${path}">`);
    expect(wadl).toContain('<doc title="RetrieveRenderedFrames"/>');
    expect(wadl).toContain('<doc title="RetrieveStudyThumbnail"/>');
    expect(wadl).toContain('<representation mediaType="image/gif"/>');
    expect(wadl).toContain('mediaType="multipart/related; type=&quot;image/png&quot;"');
    expect(wadl).toContain('<param name="window" style="query" type="xsd:string"/>');
    expect(wadl).not.toContain('<param name="annotation"');
  });

  it('WADL by default, JSON on request, 406 otherwise', () => {
    expect(negotiateCapabilities(undefined)).toBe(WADL);
    expect(negotiateCapabilities('application/json')).toBe('application/json');
    expect(() => negotiateCapabilities('image/png')).toThrow(NotAcceptableError);
  });

  it('Allow lists the methods of a resource, OPTIONS included', () => {
    expect(allowedMethods('/studies').sort()).toEqual(['GET', 'OPTIONS', 'POST']);
    expect(allowedMethods('/studies/{study}/series/{series}').sort()).toEqual(['DELETE', 'GET', 'OPTIONS']);
  });
});
