/**
 * The viewer of the archive's stack (context viewer=true, docs/deploy.md "Viewer"): the OHIF Viewer's
 * distribution in front of the API (lib/constructs/viewer.ts), the URIs the functions write on it
 * (PUBLIC_BASE_URL), and with auth 'oidc' its sign-in with code + PKCE: a client of its own on the
 * stack's user pool, or context `viewerClientId` at the external issuer.
 */
import { CfnOutput } from 'aws-cdk-lib';
import type { ArchiveStack } from './archive-stack';
import { API_STAGE_NAME } from './constructs/api';
import { COGNITO_SCOPE_PREFIX } from './constructs/user-pool';
import { DICOMWEB_PATH, ViewerSite } from './constructs/viewer';
import { viewerAppConfig, type ViewerOidcSettings } from './viewer/app-config';
import { VIEWER_FETCH_COMMAND } from './viewer/dist';
import type { ViewerSettings } from './viewer-context';

/** Context viewer=true without the viewer's build at hand. */
export class ViewerDistMissingError extends Error {
  constructor() {
    super(
      `Context viewer=true deploys the OHIF Viewer's build: run \`${VIEWER_FETCH_COMMAND}\` first (lib/app.ts fetches it ` +
        'before synth), or give an OHIF build directory with -c viewerDist=<dir>.',
    );
    this.name = 'ViewerDistMissingError';
  }
}

/** Adds the viewer to `stack`, whose API, storage and logs exist; its outputs ViewerUrl, ViewerDicomwebRoot (and ViewerClientId). */
export function addArchiveViewer(stack: ArchiveStack, viewer: ViewerSettings, distDir: string | undefined): ViewerSite {
  if (!distDir) throw new ViewerDistMissingError();
  const { authorization, oidc, retainData } = stack.settings;
  const pool = authorization === 'oidc' ? stack.dicomweb.auth.userPool : undefined;
  const issuer = authorization === 'oidc' ? (oidc.external?.issuer ?? pool?.issuer) : undefined;
  // Where the viewer reads the discovery document and keys (the issuer) and gets tokens (Cognito's hosted domain).
  const identityOrigins = pool
    ? [`https://cognito-idp.${stack.region}.${stack.urlSuffix}`, pool.baseUrl]
    : issuer
      ? [new URL(issuer).origin]
      : [];
  const site = new ViewerSite(stack, 'Viewer', {
    distDir,
    api: stack.dicomweb.api,
    stageName: API_STAGE_NAME,
    accessLogsBucket: stack.storage.accessLogsBucket,
    logs: stack.logs,
    identityOrigins,
    priceClass: viewer.priceClass,
    retainData,
  });
  stack.dicomweb.setPublicBaseUrl(site.serviceRoot);
  stack.dicomweb.setViewerUrl(`${site.origin}/`);
  let login: ViewerOidcSettings | undefined;
  if (pool) {
    const client = pool.addBrowserClient('ViewerClient', [`${site.origin}/callback`], [`${site.origin}/`]);
    stack.dicomweb.acceptAudience(client.userPoolClientId);
    const scopes = oidc.oauthBrowserScopes.map((scope) => `${COGNITO_SCOPE_PREFIX}${scope}`);
    login = { authority: pool.issuer, clientId: client.userPoolClientId, scope: ['openid', 'profile', ...scopes].join(' ') };
    new CfnOutput(stack, 'ViewerClientId', {
      description: "The viewer's app client: authorization code + PKCE, no secret",
      value: login.clientId,
    });
  } else if (issuer && viewer.clientId) {
    login = { authority: issuer, clientId: viewer.clientId, scope: viewer.scope ?? `openid ${oidc.external?.scopePrefix ?? ''}read` };
  }
  site.deployFiles(viewerAppConfig({ basePath: '/', serviceRootPath: DICOMWEB_PATH, ...(login ? { oidc: login } : {}) }));
  new CfnOutput(stack, 'ViewerUrl', { description: 'The OHIF Viewer', value: `${site.origin}/` });
  new CfnOutput(stack, 'ViewerDicomwebRoot', {
    description: 'Studies service root (PS3.18 8.2) on the viewer distribution',
    value: site.serviceRoot,
  });
  return site;
}
