/**
 * Unit: the generated app-config.js (lib/viewer/app-config.ts), run as the browser runs it (node:vm
 * with a window of a given URL): one DICOMweb data source on the page's origin or PUBLIC_BASE_URL,
 * the settings OHIF needs for this archive, and the OIDC login, left out for a share link's ?token=.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { defaultViewerScope, viewerAppConfig, type ViewerAppConfigOptions } from '../../../../lib/viewer/app-config';

interface WindowConfig {
  routerBasename: string;
  defaultDataSourceName: string;
  dataSources: { sourceName: string; namespace: string; configuration: Record<string, unknown> }[];
  oidc?: Record<string, unknown>[];
}

/** window.config as OHIF reads it, after the script ran on the page at `href`. */
function run(opts: ViewerAppConfigOptions, href: string): WindowConfig {
  const url = new URL(href);
  const window: { location: { origin: string; search: string }; config?: WindowConfig } = {
    location: { origin: url.origin, search: url.search },
  };
  vm.runInNewContext(viewerAppConfig(opts), { window, URLSearchParams });
  return window.config!;
}

const OIDC = { authority: 'https://idp.example.org/realms/h', clientId: 'ohif-viewer', scope: 'openid read' };

describe('app-config.js', () => {
  it('points one DICOMweb data source at the page origin, with what the archive supports', () => {
    const config = run({ basePath: '/viewer' }, 'http://127.0.0.1:8080/viewer/');
    expect(config.routerBasename).toBe('/viewer');
    expect(config.dataSources).toHaveLength(1);
    expect(config.defaultDataSourceName).toBe(config.dataSources[0]!.sourceName);
    expect(config.dataSources[0]!.namespace).toBe('@ohif/extension-default.dataSourcesModule.dicomweb');
    expect(config.dataSources[0]!.configuration).toMatchObject({
      qidoRoot: 'http://127.0.0.1:8080',
      wadoRoot: 'http://127.0.0.1:8080',
      wadoUriRoot: 'http://127.0.0.1:8080',
      qidoSupportsIncludeField: true,
      supportsFuzzyMatching: true,
      supportsWildcard: true,
      imageRendering: 'wadors',
      thumbnailRendering: 'thumbnail',
      enableStudyLazyLoad: true,
      bulkDataURI: { enabled: true },
      omitQuotationForMultipartRequest: true,
      supportsReject: false,
      dicomUploadEnabled: false,
    });
    expect(config.oidc).toBeUndefined();
  });

  it('uses PUBLIC_BASE_URL as the service root when given', () => {
    const config = run(
      { basePath: '/pacs/viewer', serviceRoot: 'https://pacs.example.org/pacs/' },
      'https://pacs.example.org/pacs/viewer/',
    );
    expect(config.dataSources[0]!.configuration.qidoRoot).toBe('https://pacs.example.org/pacs');
    expect(config.routerBasename).toBe('/pacs/viewer');
  });

  it('uses a service root path on the page origin (the deployed site)', () => {
    const config = run({ basePath: '/viewer', serviceRootPath: '/dicomweb' }, 'https://d1.cloudfront.net/viewer/');
    expect(config.dataSources[0]!.configuration.wadoRoot).toBe('https://d1.cloudfront.net/dicomweb');
  });

  it('logs in with the authorization code flow and PKCE when the archive checks OIDC tokens', () => {
    const config = run({ basePath: '/viewer', oidc: OIDC }, 'http://127.0.0.1:8080/viewer/');
    expect(config.oidc).toEqual([
      expect.objectContaining({
        authority: OIDC.authority,
        client_id: 'ohif-viewer',
        response_type: 'code',
        scope: 'openid read',
        // OHIF puts routerBasename before it: <origin>/viewer/callback.
        redirect_uri: '/callback',
      }),
    ]);
  });

  it('leaves the login out for a share link, whose URL carries its token', () => {
    const config = run({ basePath: '/viewer', oidc: OIDC }, 'http://127.0.0.1:8080/viewer/viewer?StudyInstanceUIDs=1.2.3&token=abc');
    expect(config.oidc).toBeUndefined();
    expect(config.dataSources[0]!.configuration.qidoRoot).toBe('http://127.0.0.1:8080');
  });

  it('asks for openid and the read scope under the prefix by default', () => {
    expect(defaultViewerScope('')).toBe('openid read');
    expect(defaultViewerScope('dicomweb/')).toBe('openid dicomweb/read');
  });
});
