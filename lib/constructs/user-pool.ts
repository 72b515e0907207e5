/**
 * The stack's own OpenID Connect issuer for auth 'oidc' without an external one: a Cognito user pool
 * with a hosted domain (managed login), a resource server whose scopes are the archive's
 * (lambdas/auth/scopes.ts), an authorization code + PKCE client for browsers (RFC 6749 4.1, RFC 7636)
 * and a client credentials client for machines (RFC 6749 4.4). Cognito access tokens carry the
 * scopes as `dicomweb/read ...` and the client in `client_id` (Cognito developer guide, "Understanding
 * the access token"), which the authorizer checks against OIDC_AUDIENCE.
 */
import { Aws, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { SCOPE_DESCRIPTIONS, SCOPES, type Scope } from '../../lambdas/auth/scopes';

/** The resource server's identifier: the prefix of the scopes in tokens ('dicomweb/read'). */
export const RESOURCE_SERVER_ID = 'dicomweb';
export const COGNITO_SCOPE_PREFIX = `${RESOURCE_SERVER_ID}/`;

export interface ArchiveUserPoolProps {
  /** The hosted domain's prefix; default `{stack name}-{account}`, unique per account and region. */
  readonly domainPrefix?: string;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  /** The archive scopes the browser client may obtain (the machine client has all). */
  readonly browserScopes: readonly Scope[];
  /**
   * Keep the pool (its users and their second factors) when the stack is deleted (default). Its
   * domain goes with the stack either way, so a new deployment can take the same prefix.
   */
  readonly retainData?: boolean;
}

export class ArchiveUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;
  /** Authorization code + PKCE, no secret: viewers and other browser applications. */
  readonly browserClient: cognito.UserPoolClient;
  /** Client credentials with a generated secret: PACS, routers, the project's CLI and Deliver. */
  readonly machineClient: cognito.UserPoolClient;
  /** The `iss` of the pool's tokens: https://cognito-idp.{region}.amazonaws.com/{poolId}. */
  readonly issuer: string;
  /** The hosted domain, https://{prefix}.auth.{region}.amazoncognito.com. */
  readonly baseUrl: string;
  /** What a browser client may ask for: OpenID, profile and the scopes of `browserScopes`. */
  private readonly browserOAuthScopes: cognito.OAuthScope[];

  constructor(scope: Construct, id: string, props: ArchiveUserPoolProps) {
    super(scope, id);
    this.userPool = createUserPool(this, (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    const stack = Stack.of(this);
    this.issuer = `https://cognito-idp.${stack.region}.${stack.urlSuffix}/${this.userPool.userPoolId}`;
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? defaultDomainPrefix(stack.stackName) },
    });
    this.baseUrl = this.domain.baseUrl();

    const scopes = SCOPES.map((name) => new cognito.ResourceServerScope({ scopeName: name, scopeDescription: SCOPE_DESCRIPTIONS[name] }));
    const server = this.userPool.addResourceServer('ResourceServer', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'DICOMweb archive',
      scopes,
    });
    const archiveScopes = scopes.map((s) => cognito.OAuthScope.resourceServer(server, s));
    const browserScopes = scopes
      .filter((s) => props.browserScopes.includes(s.scopeName as Scope))
      .map((s) => cognito.OAuthScope.resourceServer(server, s));

    this.browserOAuthScopes = [cognito.OAuthScope.OPENID, cognito.OAuthScope.PROFILE, ...browserScopes];
    this.browserClient = this.addBrowserClient('BrowserClient', props.callbackUrls, props.logoutUrls);
    this.machineClient = this.userPool.addClient('MachineClient', {
      generateSecret: true,
      preventUserExistenceErrors: true,
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: { flows: { clientCredentials: true }, scopes: archiveScopes },
    });
    hostedUiOnly(this.machineClient);
  }

  /**
   * A public client for a browser application at the given redirect URLs: authorization code with
   * PKCE (RFC 7636, sent by the application), no secret, the browser scopes. The viewer's
   * distribution (./viewer.ts) gets its own, so its URLs come and go with it.
   */
  addBrowserClient(id: string, callbackUrls: readonly string[], logoutUrls: readonly string[]): cognito.UserPoolClient {
    const client = this.userPool.addClient(id, {
      generateSecret: false,
      preventUserExistenceErrors: true,
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: this.browserOAuthScopes,
        callbackUrls: [...callbackUrls],
        logoutUrls: [...logoutUrls],
      },
    });
    hostedUiOnly(client);
    return client;
  }
}

/**
 * Users sign in through the hosted UI only, never with a password sent to a client's own form (the
 * SRP and custom flows Cognito enables by default); refresh tokens, which Cognito always requires.
 */
function hostedUiOnly(client: cognito.UserPoolClient): void {
  (client.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
}

/**
 * `{stack name}-{account}`: a hosted domain prefix is unique across all of Cognito in a region, and
 * the account id makes the stack's own unique. Lowercase, without Cognito's reserved words.
 */
export function defaultDomainPrefix(stackName: string): string {
  const slug =
    stackName
      .toLowerCase()
      .replace(/aws|amazon|cognito/g, '')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 50)
      .replace(/-$/, '') || 'dicomweb';
  return Fn.join('-', [slug, Aws.ACCOUNT_ID]);
}

/** Users of the archive: no self sign-up, strong passwords, threat protection. */
function createUserPool(scope: Construct, removalPolicy: RemovalPolicy): cognito.UserPool {
  const userPool = new cognito.UserPool(scope, 'Users', {
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    mfa: cognito.Mfa.OPTIONAL,
    mfaSecondFactor: { otp: true, sms: false },
    featurePlan: cognito.FeaturePlan.PLUS,
    standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
    passwordPolicy: {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
    },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    removalPolicy,
  });
  Validations.of(userPool).acknowledge({
    id: 'AwsSolutions-COG2',
    reason:
      'MFA is optional so that each site enrols users per its own policy; the Plus feature plan ' +
      'with full-function threat protection requires a second factor on risky sign-ins.',
  });
  return userPool;
}
