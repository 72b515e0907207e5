/**
 * The viewer's context options (docs/deploy.md "Viewer", docs/configuration.md): `viewer` and the
 * `viewer*` settings, read and checked at synth like the others.
 */
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Node } from 'constructs';
import type { ApiAuthorization, OidcSettings } from './auth-context';
import { ArchiveContextError } from './context-error';

export interface ViewerSettings {
  /** Context `viewerPriceClass`: '100' (default), '200' or 'All'. */
  readonly priceClass: cloudfront.PriceClass;
  /** Context `viewerDist`: a directory holding an OHIF build to deploy instead of the fetched one. */
  readonly distDir?: string;
  /** Context `viewerClientId`: the viewer's public client at an external issuer (oidcIssuer). */
  readonly clientId?: string;
  /** Context `viewerScope`: the scopes the viewer asks the external issuer for. */
  readonly scope?: string;
}

const PRICE_CLASSES: Readonly<Record<string, cloudfront.PriceClass>> = {
  '100': cloudfront.PriceClass.PRICE_CLASS_100,
  '200': cloudfront.PriceClass.PRICE_CLASS_200,
  All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

/** True when context `viewer` is 'true'. */
export function viewerRequested(node: Node): boolean {
  const on: unknown = node.tryGetContext('viewer');
  if (on === true || on === 'true') return true;
  if (on === undefined || on === false || on === 'false') return false;
  throw new ArchiveContextError('viewer', on, "'true' or 'false'");
}

/** The viewer's settings, undefined without context viewer=true; checked against the authentication. */
export function viewerSettingsFromContext(node: Node, authorization: ApiAuthorization, oidc: OidcSettings): ViewerSettings | undefined {
  const get = (key: string): unknown => node.tryGetContext(key);
  if (!viewerRequested(node)) {
    for (const key of ['viewerPriceClass', 'viewerDist', 'viewerClientId', 'viewerScope']) {
      if (present(get(key))) throw new ArchiveContextError(key, get(key), 'given only with viewer=true');
    }
    return undefined;
  }
  if (authorization === 'iam') {
    throw new ArchiveContextError('viewer', get('viewer'), "used with auth 'oidc' or 'none' (a browser cannot sign AWS SigV4 requests)");
  }
  const priceClass = get('viewerPriceClass') ?? '100';
  if (typeof priceClass !== 'string' || !(priceClass in PRICE_CLASSES)) {
    throw new ArchiveContextError('viewerPriceClass', priceClass, "'100', '200' or 'All' (CloudFront price classes)");
  }
  const text = (key: string): string | undefined => {
    const v = get(key);
    if (!present(v)) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new ArchiveContextError(key, v, 'a non-empty string');
    return v.trim();
  };
  const distDir = text('viewerDist');
  const clientId = text('viewerClientId');
  const scope = text('viewerScope');
  const external = authorization === 'oidc' && oidc.external !== undefined;
  if (external && !clientId) {
    throw new ArchiveContextError(
      'viewerClientId',
      get('viewerClientId'),
      'the client id of the viewer at oidcIssuer (a public client: code + PKCE, redirect URI https://<distribution>/callback)',
    );
  }
  if (!external && (clientId || scope)) {
    const key = clientId ? 'viewerClientId' : 'viewerScope';
    throw new ArchiveContextError(key, get(key), "given only with oidcIssuer (the stack's own user pool gets a viewer client)");
  }
  return {
    priceClass: PRICE_CLASSES[priceClass]!,
    ...(distDir ? { distDir } : {}),
    ...(clientId ? { clientId } : {}),
    ...(scope ? { scope } : {}),
  };
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}
