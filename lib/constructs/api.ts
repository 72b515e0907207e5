import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { functionGroups, routes, type FunctionGroup } from '../../lambdas/http/routes';
import type { ApiAuthorization, OidcSettings } from '../auth-context';
import { ApiAuth } from './auth';
import { DicomwebFunction, pascal, type FunctionEnvironment } from './dicomweb-function';
import type { ApiClientsTable } from './clients-table';
import { bundleExternals } from './bundling';
import { addGatewayResponses } from './gateway-responses';
import type { ArchiveLogs } from './logs';
import { RENDER_ARCHITECTURE, RenderLayer } from './render-layer';
import type { ArchiveStorage } from './storage';
import { protectStage } from './waf';

export type { ApiAuthorization } from '../auth-context';

export const API_STAGE_NAME = 'prod';

/**
 * The OPTIONS methods when CORS origins are allowed. API Gateway runs a method's authorizer (IAM
 * SigV4, the Lambda authorizer) before its integration, and a browser's preflight carries no
 * credential, so an authorized OPTIONS answers every preflight 401/403 before any code runs. A
 * resource has one OPTIONS method, so it is either a MOCK preflight answer (CDK's addCorsPreflight,
 * which loses Retrieve Capabilities) or the capabilities function without an authorizer. So: no
 * authorizer on OPTIONS; the function answers the preflight for an allowed origin, and with auth
 * 'oidc' verifies the credential of a plain OPTIONS (Retrieve Capabilities) itself. A function cannot
 * verify an IAM SigV4 signature, so with auth 'iam' Retrieve Capabilities (the route table, no patient
 * data) is unauthenticated. Every other method keeps its authorizer. Without allowed origins OPTIONS
 * keeps it too.
 */
const CORS_OPTIONS_METHOD: apigateway.MethodOptions = { authorizationType: apigateway.AuthorizationType.NONE };

/**
 * Access log fields: the resource template, not the concrete path or query (no UIDs or patient
 * attributes), and the gateway's own error and integration error, which execution logs would
 * otherwise be needed for (API Gateway developer guide, "$context variables for access logging").
 */
const ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: apigateway.AccessLogField.contextRequestId(),
    ip: apigateway.AccessLogField.contextIdentitySourceIp(),
    caller: apigateway.AccessLogField.contextIdentityCaller(),
    user: apigateway.AccessLogField.contextIdentityUser(),
    requestTime: apigateway.AccessLogField.contextRequestTime(),
    httpMethod: apigateway.AccessLogField.contextHttpMethod(),
    resourcePath: apigateway.AccessLogField.contextResourcePath(),
    status: apigateway.AccessLogField.contextStatus(),
    protocol: apigateway.AccessLogField.contextProtocol(),
    responseLength: apigateway.AccessLogField.contextResponseLength(),
    responseLatency: apigateway.AccessLogField.contextResponseLatency(),
    integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
    errorMessage: apigateway.AccessLogField.contextErrorMessage(),
    integrationError: '$context.integrationErrorMessage',
    wafStatus: apigateway.AccessLogField.contextWafResponseCode(),
  }),
);

/**
 * API Gateway base64-encodes every body whose Content-Type matches one of these; with the wildcard
 * that is every body, and the handlers decode whenever isBase64Encoded is set.
 */
export const BINARY_MEDIA_TYPES = ['multipart/related', 'application/dicom', 'application/octet-stream', '*/*'];

export class UnauthenticatedApiError extends Error {
  constructor() {
    super(
      "Context auth='none' deploys an API without authentication over patient data; " +
        "set context allowUnauthenticated='true' to confirm, or use auth='oidc' or auth='iam'.",
    );
    this.name = 'UnauthenticatedApiError';
  }
}

export interface DicomwebApiProps {
  readonly storage: ArchiveStorage;
  /**
   * The API key clients: every function verifies keys from it (read), the admin function manages it;
   * CLIENTS_TABLE_NAME is set on every function.
   */
  readonly clients?: ApiClientsTable;
  readonly logs: ArchiveLogs;
  /** Context `auth` (default 'oidc'). */
  readonly authorization?: ApiAuthorization;
  /** Auth 'oidc': the issuer (the stack's own user pool by default), redirect URLs, authorizer cache. */
  readonly oidc?: OidcSettings;
  /** Keep the user pool of auth 'oidc' when the stack is deleted (default true). */
  readonly retainData?: boolean;
  /** Required with authorization 'none', as a deliberate confirmation. */
  readonly allowUnauthenticated?: boolean;
  /**
   * Browser origins allowed by CORS (validated by lambdas/http/cors.ts parseAllowedOrigins): set as
   * CORS_ALLOWED_ORIGINS on every function; when any, the OPTIONS methods have no authorizer (see
   * corsMethodOptions) and the gateway responses carry the origin when there is exactly one.
   */
  readonly corsAllowedOrigins?: readonly string[];
  /** Associate a WAFv2 web ACL with AWS managed rules to the stage (default true). */
  readonly waf?: boolean;
  /** Configuration passed to every function in addition to BUCKET_NAME and TABLE_NAME. */
  readonly environment?: Omit<FunctionEnvironment, 'BUCKET_NAME' | 'TABLE_NAME'>;
  /** Per-group additions to the environment and grants, e.g. the Send workflow for group 'send'. */
  readonly groups?: Partial<Record<FunctionGroup, FunctionGroupExtras>>;
  readonly reservedConcurrentExecutions?: number;
  /** Stage throttling, requests per second and burst (default DEFAULT_THROTTLING). */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
  /**
   * API Gateway execution logs at ERROR (default false). They need the account's API Gateway
   * CloudWatch Logs role, which this stack does not set (it is one setting for the whole region).
   */
  readonly executionLogs?: boolean;
  /** Repository root holding the handler entries (default: this repository). */
  readonly projectRoot?: string;
}

/**
 * Stage throttling by default: one viewer opening a CT of 500 images frame by frame sends 500
 * requests within a second or two, and a reading room has several viewers, so a rate of 100 per second
 * (API Gateway's example) starves the first; 1,000 a second with bursts of 2,000 stays well within the
 * account's regional default of 10,000 / 5,000.
 */
export const DEFAULT_THROTTLING = { rateLimit: 1000, burstLimit: 2000 } as const;

/** What a construct beside the API (the Send workflow) gives one function group. */
export interface FunctionGroupExtras {
  readonly environment?: Omit<FunctionEnvironment, 'BUCKET_NAME' | 'TABLE_NAME'>;
  readonly grant?: (policy: iam.ManagedPolicy) => void;
}

/** Key patterns of instance objects (lambdas/storage/keys.ts). */
export const STUDY_OBJECTS = 'studies/*';
export const NPI_OBJECTS = 'npi/*';
/** Uploads of the upload path, joined from their parts (lambdas/storage/keys.ts uploadObjectKey). */
export const UPLOAD_OBJECTS = 'uploads/*';
/** Images derived from stored instances, beside them (lambdas/storage/keys.ts derivedImageKey). */
export const DERIVED_IMAGE_OBJECTS = 'studies/*.derived.*';

/** What each function group may do with the storage: least privilege per transaction. */
const grants: Readonly<Record<FunctionGroup, (fn: DicomwebFunction, storage: ArchiveStorage) => void>> = {
  store: ({ policy }, storage) => {
    storage.grantObjectRead(policy);
    storage.grantObjectWrite(policy);
    // The objects of a write that lost the race for its SOP Instance UID (lambdas/dicomweb/store.ts).
    storage.grantObjectDelete(policy, STUDY_OBJECTS);
    storage.grantIndexRead(policy);
    storage.grantIndexWrite(policy);
  },
  search: ({ policy }, storage) => {
    storage.grantIndexRead(policy);
  },
  // Retrieve Capabilities answers from the route table alone: no storage access at all.
  capabilities: () => undefined,
  // Store, Search and Retrieve of Non-Patient Instances (PS3.18 12).
  npi: ({ policy }, storage) => {
    storage.grantObjectRead(policy);
    storage.grantObjectWrite(policy);
    storage.grantObjectDelete(policy, NPI_OBJECTS);
    storage.grantIndexRead(policy);
    storage.grantIndexWrite(policy);
  },
  retrieve: ({ policy }, storage) => {
    storage.grantObjectRead(policy);
    storage.grantIndexRead(policy);
  },
  // Rendered and thumbnail resources (PS3.18 10.4.1.1.3-4): what Retrieve reads, and the thumbnails it
  // caches beside the instances (lambdas/dicomweb/derived-images.ts), which only Delete removes; it can
  // write nothing else, so a fault in the image code cannot overwrite a stored instance.
  render: ({ policy }, storage) => {
    storage.grantObjectRead(policy);
    storage.grantObjectWrite(policy, DERIVED_IMAGE_OBJECTS);
    storage.grantIndexRead(policy);
  },
  delete: (fn, storage) => {
    storage.grantObjectRead(fn.policy);
    storage.grantObjectDelete(fn.policy);
    storage.grantIndexRead(fn.policy);
    storage.grantIndexWrite(fn.policy);
    // A delete the request's time does not cover continues in an asynchronous invocation of the
    // function itself (lambdas/storage/delete-continuation.ts). A policy of its own: the function
    // waits for fn.policy, and a statement naming the function there would make a cycle.
    new iam.ManagedPolicy(fn, 'InvokeSelf', {
      roles: [iam.Role.fromRoleName(fn, 'RoleRef', fn.role!.roleName)],
      statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] })],
    });
  },
  // The send request item (conditional put, then read by Check Send Result) and the batch outcomes a
  // final response lists (send-requests/{transactionUID}/outcomes/, lambdas/send/outcomes.ts); the
  // workflow's own grants (StartExecution, destination registry) come with props.groups.send.
  send: ({ policy }, storage) => {
    storage.grantIndexRead(policy);
    storage.grantIndexWrite(policy);
    storage.grantObjectRead(policy, 'send-requests/*');
  },
  // The upload path (lambdas/dicomweb/upload.ts): multipart uploads under uploads/ (created, listed,
  // completed, aborted; the presigned part URLs carry this role's PutObject), the joined object read
  // and deleted; then the Store rules: instances read (duplicates) and written (the copy of the upload,
  // its metadata), a lost race's objects deleted, the index read and written (UPLOAD items too).
  upload: ({ policy }, storage) => {
    storage.grantObjectRead(policy, [UPLOAD_OBJECTS, STUDY_OBJECTS]);
    storage.grantObjectWrite(policy, UPLOAD_OBJECTS);
    storage.grantObjectWrite(policy, STUDY_OBJECTS);
    storage.grantMultipartUploadList(policy, UPLOAD_OBJECTS);
    storage.grantObjectDelete(policy, UPLOAD_OBJECTS);
    storage.grantObjectDelete(policy, STUDY_OBJECTS);
    storage.grantIndexRead(policy);
    storage.grantIndexWrite(policy);
  },
  // API key clients and share links (the clients table, granted below), and the archive's index to
  // read: a share link is made for a stored study only (ShareLinksService.create). No bucket.
  admin: ({ policy }, storage) => {
    storage.grantIndexRead(policy);
  },
};

/**
 * The DICOMweb REST API, generated from the route table of lambdas/http/routes.ts: one function per group,
 * one Lambda proxy method per route (response streaming for the streaming groups).
 */
export class DicomwebApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly functions: Readonly<Record<FunctionGroup, DicomwebFunction>>;
  /** Authentication: the authorizer, the user pool, what the functions are told (./auth.ts). */
  readonly auth: ApiAuth;
  readonly webAcl?: wafv2.CfnWebACL;
  /** The Studies service root (PS3.18 8.2), without a trailing slash. */
  readonly serviceRoot: string;
  private readonly extraAudiences: string[] = [];

  constructor(scope: Construct, id: string, props: DicomwebApiProps) {
    super(scope, id);
    const authorization = props.authorization ?? 'oidc';
    if (authorization === 'none' && !props.allowUnauthenticated) throw new UnauthenticatedApiError();
    this.auth = new ApiAuth(this, 'Auth', {
      authorization,
      oidc: props.oidc,
      logs: props.logs,
      storageNames: { BUCKET_NAME: props.storage.bucket.bucketName, TABLE_NAME: props.storage.table.tableName },
      clients: props.clients,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retainData: props.retainData,
      projectRoot: props.projectRoot,
    });

    const accessLogs = props.logs.logGroup(this, 'AccessLogs');
    const executionLogs = props.executionLogs ?? false;
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'DICOMweb archive (PS3.18 Studies service)',
      binaryMediaTypes: BINARY_MEDIA_TYPES,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // The account's API Gateway CloudWatch role is a regional account setting, not this stack's.
      cloudWatchRole: false,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
        tracingEnabled: true,
        loggingLevel: executionLogs ? apigateway.MethodLoggingLevel.ERROR : apigateway.MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? DEFAULT_THROTTLING.rateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit ?? DEFAULT_THROTTLING.burstLimit,
      },
    });
    if (executionLogs) {
      // The group API Gateway writes execution logs to, created here with the archive's retention and
      // key (API Gateway would create it without either).
      const name = `API-Gateway-Execution-Logs_${this.api.restApiId}/${API_STAGE_NAME}`;
      this.api.deploymentStage.node.addDependency(props.logs.logGroup(this, 'ExecutionLogs', name));
    }
    const stack = Stack.of(this);
    this.serviceRoot = `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${API_STAGE_NAME}`;

    const corsAllowedOrigins = props.corsAllowedOrigins ?? [];
    const cors = corsAllowedOrigins.length > 0;
    const environment: FunctionEnvironment = {
      ...props.environment,
      ...this.auth.environment,
      ...(corsAllowedOrigins.length ? { CORS_ALLOWED_ORIGINS: corsAllowedOrigins.join(',') } : {}),
      ...(props.clients ? { CLIENTS_TABLE_NAME: props.clients.table.tableName } : {}),
      BUCKET_NAME: props.storage.bucket.bucketName,
      TABLE_NAME: props.storage.table.tableName,
    };
    let renderLayer: RenderLayer | undefined;
    const functions = {} as Record<FunctionGroup, DicomwebFunction>;
    const integrations = {} as Record<FunctionGroup, apigateway.LambdaIntegration>;
    for (const group of Object.keys(functionGroups) as FunctionGroup[]) {
      const spec = functionGroups[group];
      const extras = props.groups?.[group];
      const fn = new DicomwebFunction(this, pascal(group), {
        entry: spec.entry,
        memorySize: spec.memorySize,
        timeout: Duration.seconds(spec.timeoutSeconds),
        environment: { ...environment, ...extras?.environment },
        logs: props.logs,
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
        projectRoot: props.projectRoot,
        // Decoders and encoder from a layer (./render-layer.ts), on the architecture of its native code.
        ...(group === 'render'
          ? {
              architecture: RENDER_ARCHITECTURE,
              layers: [(renderLayer ??= new RenderLayer(this, 'RenderLayer', { projectRoot: props.projectRoot })).layer],
              externalModules: bundleExternals(group),
            }
          : {}),
      });
      grants[group](fn, props.storage);
      if (group === 'admin') props.clients?.grantManage(fn.policy);
      else props.clients?.grantVerify(fn.policy);
      extras?.grant?.(fn.policy);
      functions[group] = fn;
      integrations[group] = new apigateway.LambdaIntegration(fn, {
        proxy: true,
        // One invoke permission per function for the whole API instead of two per method.
        scopePermissionToMethod: false,
        ...(spec.streaming
          ? {
              responseTransferMode: apigateway.ResponseTransferMode.STREAM,
              // Streamed integrations may run past the 29 s buffered limit, up to the function's timeout.
              timeout: Duration.seconds(spec.timeoutSeconds),
            }
          : {}),
      });
    }
    this.functions = functions;

    const methodOptions = this.auth.methodOptions;
    for (const route of routes) {
      const preflight = cors && route.method === 'OPTIONS';
      const method = this.api.root.resourceForPath(route.path).addMethod(route.method, integrations[route.group], {
        ...(preflight ? CORS_OPTIONS_METHOD : methodOptions),
        operationName: route.transaction,
      });
      if (preflight && authorization !== 'none') {
        const reason =
          'CORS: a browser sends its preflight (OPTIONS) without credentials and API Gateway runs a method authorizer ' +
          'before the integration, so OPTIONS has none; the capabilities function answers the preflight, verifies the ' +
          'credential of Retrieve Capabilities itself with auth=oidc, and describes the route table only (no patient data).';
        Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'AwsSolutions-COG4', reason });
      }
    }
    addGatewayResponses(this.api, { corsAllowedOrigins, bearer: authorization === 'oidc' });

    if (props.waf ?? true) this.webAcl = protectStage(this, this.api.deploymentStage.stageArn, props.logs);
    this.acknowledge(this.webAcl !== undefined, executionLogs);
  }

  /**
   * The archive's public address when a proxy owns it (the viewer's distribution, ./viewer.ts): the
   * URIs the functions write (RetrieveURL, BulkDataURI, PS3.18 8.6.2) start with it (PUBLIC_BASE_URL).
   */
  setPublicBaseUrl(url: string): void {
    for (const fn of Object.values(this.functions)) fn.addEnvironment('PUBLIC_BASE_URL', url);
  }

  /** Where share links point: the viewer's public address (VIEWER_URL). */
  setViewerUrl(url: string): void {
    for (const fn of Object.values(this.functions)) fn.addEnvironment('VIEWER_URL', url);
  }

  /**
   * Accepts the access tokens of one more client of the stack's user pool (Cognito names it in
   * `client_id`, checked against OIDC_AUDIENCE by the authorizer and the functions).
   */
  acceptAudience(audience: string): void {
    this.extraAudiences.push(audience);
    const value = [this.auth.environment.OIDC_AUDIENCE, ...this.extraAudiences].filter(Boolean).join(',');
    for (const fn of [...Object.values(this.functions), this.auth.authorizerFunction]) fn?.addEnvironment('OIDC_AUDIENCE', value);
  }

  /** Rules that do not fit a Lambda proxy API, each with the reason. */
  private acknowledge(waf: boolean, executionLogs: boolean): void {
    if (!executionLogs) {
      const reason =
        'Execution logs need the account-wide API Gateway CloudWatch role, which a stack should not overwrite; ' +
        'access logs carry each request with the gateway and integration errors, the functions log their own ' +
        '(context apiExecutionLogs=true turns execution logs on where the account role is set).';
      Validations.of(this.api).acknowledge(
        { id: 'AwsSolutions-APIG6', reason },
        { id: 'HIPAA.Security-APIGWExecutionLoggingEnabled', reason },
      );
    }
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Lambda proxy integration: the handlers validate each request against PS3.18 and answer with ' +
          'the status codes the standard requires, which a gateway request validator cannot produce.',
      },
      {
        id: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted',
        reason: 'The stage has no cache on purpose: responses carry patient data and must not be cached.',
      },
      {
        id: 'HIPAA.Security-APIGWSSLEnabled',
        reason: 'A client certificate authenticates API Gateway to HTTP backends; the backends here are Lambda.',
      },
    );
    this.auth.acknowledge(this.api);
    if (!waf) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason: 'The web ACL was left out by context waf=false (e.g. a firewall managed outside this stack).',
      });
    }
  }
}
