/**
 * How the API authenticates (context `auth`, docs/deploy.md "Authentication"):
 * - 'oidc': a Lambda REQUEST authorizer (lambdas/handlers/authorizer.ts) verifies an OAuth 2.0 access
 *   token of the issuer (the stack's own Cognito user pool, ./user-pool.ts, or an external one) or an
 *   API key of the clients table, and API Gateway caches its answer per Authorization header. The
 *   functions get the same settings: they check the route's scope against the authorizer's context,
 *   and verify the credential themselves where no authorizer runs (OPTIONS with CORS).
 * - 'iam': AWS SigV4 (AWS_IAM methods); 'none': nothing (with allowUnauthenticated).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import {
  DEFAULT_AUTHORIZER_CACHE_SECONDS,
  DEFAULT_BROWSER_SCOPES,
  DEFAULT_CALLBACK_URLS,
  DEFAULT_LOGOUT_URLS,
  type ApiAuthorization,
  type OidcSettings,
} from '../auth-context';
import type { ApiClientsTable } from './clients-table';
import { DicomwebFunction, type AuthEnvironment, type FunctionEnvironment } from './dicomweb-function';
import type { ArchiveLogs } from './logs';
import { ArchiveUserPool, COGNITO_SCOPE_PREFIX } from './user-pool';

/** The authorizer's handler (lambdas/handlers/authorizer.ts), relative to the project root. */
export const AUTHORIZER_ENTRY = 'lambdas/handlers/authorizer.ts';

export interface ApiAuthProps {
  readonly authorization: ApiAuthorization;
  /** Auth 'oidc' settings (default: the stack's own user pool, localhost redirect URLs, 300 s cache). */
  readonly oidc?: OidcSettings;
  readonly logs: ArchiveLogs;
  /**
   * BUCKET_NAME and TABLE_NAME, which lambdas/config.ts requires of every function: the authorizer
   * gets the names only, and no access to either.
   */
  readonly storageNames: Pick<FunctionEnvironment, 'BUCKET_NAME' | 'TABLE_NAME'>;
  /** The API key clients: with them, API keys authenticate too (AUTH 'oidc,api-keys'). */
  readonly clients?: ApiClientsTable;
  readonly reservedConcurrentExecutions?: number;
  /** Keep the user pool when the stack is deleted (default). */
  readonly retainData?: boolean;
  readonly projectRoot?: string;
}

/** A stack output: its value and what it is for. */
export interface AuthOutput {
  readonly value: string;
  readonly description: string;
}

export class ApiAuth extends Construct {
  readonly authorization: ApiAuthorization;
  /** AUTH, OIDC_* and CLIENTS_TABLE_NAME of every function (lambdas/config.ts). */
  readonly environment: AuthEnvironment;
  /** What every non-OPTIONS method uses. */
  readonly methodOptions: apigateway.MethodOptions;
  /** Auth 'oidc' without an external issuer. */
  readonly userPool?: ArchiveUserPool;
  /** Auth 'oidc'. */
  readonly authorizer?: apigateway.RequestAuthorizer;
  readonly authorizerFunction?: DicomwebFunction;

  constructor(scope: Construct, id: string, props: ApiAuthProps) {
    super(scope, id);
    this.authorization = props.authorization;
    if (props.authorization !== 'oidc') {
      this.environment = { AUTH: props.authorization };
      this.methodOptions = {
        authorizationType: props.authorization === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
      };
      return;
    }

    const oidc = props.oidc ?? {
      oauthCallbackUrls: DEFAULT_CALLBACK_URLS,
      oauthLogoutUrls: DEFAULT_LOGOUT_URLS,
      oauthBrowserScopes: DEFAULT_BROWSER_SCOPES,
      authorizerCacheSeconds: DEFAULT_AUTHORIZER_CACHE_SECONDS,
    };
    let issuer: Pick<AuthEnvironment, 'OIDC_ISSUER' | 'OIDC_AUDIENCE' | 'OIDC_SCOPE_PREFIX' | 'OIDC_JWKS_URI'>;
    if (oidc.external) {
      issuer = {
        OIDC_ISSUER: oidc.external.issuer,
        OIDC_AUDIENCE: oidc.external.audience.join(','),
        OIDC_SCOPE_PREFIX: oidc.external.scopePrefix || undefined,
        OIDC_JWKS_URI: oidc.external.jwksUri,
      };
    } else {
      this.userPool = new ArchiveUserPool(this, 'UserPool', {
        domainPrefix: oidc.cognitoDomainPrefix,
        callbackUrls: oidc.oauthCallbackUrls,
        logoutUrls: oidc.oauthLogoutUrls,
        browserScopes: oidc.oauthBrowserScopes,
        retainData: props.retainData,
      });
      issuer = {
        OIDC_ISSUER: this.userPool.issuer,
        // Cognito access tokens name their client in client_id (no aud): either client is accepted.
        OIDC_AUDIENCE: [this.userPool.browserClient.userPoolClientId, this.userPool.machineClient.userPoolClientId].join(','),
        OIDC_SCOPE_PREFIX: COGNITO_SCOPE_PREFIX,
      };
    }
    this.environment = {
      AUTH: props.clients ? 'oidc,api-keys' : 'oidc',
      ...issuer,
      CLIENTS_TABLE_NAME: props.clients?.table.tableName,
    };

    this.authorizerFunction = new DicomwebFunction(this, 'AuthorizerFunction', {
      entry: AUTHORIZER_ENTRY,
      memorySize: 256,
      // API Gateway waits for an authorizer within the request's own 29 s; a JWKS fetch and one read.
      timeout: Duration.seconds(10),
      environment: { ...props.storageNames, ...this.environment },
      logs: props.logs,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      projectRoot: props.projectRoot,
    });
    // A key's client, by its id (ClientStore.get): the authorizer's only data.
    props.clients?.grantVerify(this.authorizerFunction.policy);
    // API Gateway calls the authorizer only with an Authorization header (else 401 at once), and keeps
    // its answer for that header value: the policy allows the whole API, so one answer fits every method.
    this.authorizer = new apigateway.RequestAuthorizer(this, 'Authorizer', {
      handler: this.authorizerFunction,
      identitySources: [apigateway.IdentitySource.header('Authorization')],
      resultsCacheTtl: Duration.seconds(oidc.authorizerCacheSeconds),
    });
    this.methodOptions = { authorizationType: apigateway.AuthorizationType.CUSTOM, authorizer: this.authorizer };
  }

  /** The stack outputs a client needs to get tokens: issuer, endpoints, client IDs; never a secret. */
  outputs(): Record<string, AuthOutput> {
    if (this.authorization !== 'oidc') return {};
    const pool = this.userPool;
    if (!pool) {
      return {
        OidcIssuer: { value: this.environment.OIDC_ISSUER!, description: 'OpenID Connect issuer whose access tokens the API accepts' },
        OidcAudience: { value: this.environment.OIDC_AUDIENCE!, description: 'Audiences (aud) the API accepts' },
      };
    }
    const poolId = pool.userPool.userPoolId;
    return {
      OidcIssuer: { value: pool.issuer, description: 'OpenID Connect issuer of the access tokens (the user pool)' },
      UserPoolId: { value: poolId, description: 'Cognito user pool of the archive: create users here (no self sign-up)' },
      OAuthDomainUrl: { value: pool.baseUrl, description: 'Hosted sign-in domain (managed login)' },
      OAuthAuthorizeEndpoint: { value: `${pool.baseUrl}/oauth2/authorize`, description: 'Authorization endpoint (code + PKCE)' },
      OAuthTokenEndpoint: { value: `${pool.baseUrl}/oauth2/token`, description: 'Token endpoint (code exchange, client credentials)' },
      BrowserClientId: {
        value: pool.browserClient.userPoolClientId,
        description: 'App client for browsers: authorization code + PKCE, no secret',
      },
      MachineClientId: {
        value: pool.machineClient.userPoolClientId,
        description:
          'App client for machines: client credentials. Its secret: aws cognito-idp describe-user-pool-client ' +
          '--user-pool-id <UserPoolId> --client-id <MachineClientId> --query UserPoolClient.ClientSecret --output text',
      },
    };
  }

  /** cdk-nag rules answered by the authorizer rather than as the rule expects, each with the reason. */
  acknowledge(api: apigateway.RestApi): void {
    const reasons: Record<ApiAuthorization, string> = {
      oidc:
        'Methods use a Lambda REQUEST authorizer that verifies OAuth 2.0 access tokens of the configured OpenID Connect ' +
        "issuer (the stack's Cognito user pool or the site's own) and API keys; a Cognito user pool authorizer accepts " +
        'ID tokens only and would refuse the access tokens viewers and machines send.',
      iam: 'Methods use AWS_IAM (SigV4) authorization, chosen by context auth=iam.',
      none: 'Unauthenticated access was explicitly allowed by context allowUnauthenticated=true.',
    };
    Validations.of(api).acknowledge({ id: 'AwsSolutions-COG4', reason: reasons[this.authorization] });
    if (this.authorization === 'none') Validations.of(api).acknowledge({ id: 'AwsSolutions-APIG4', reason: reasons.none });
  }
}
