import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { SEND_WAIT_MS_MAX } from '../lambdas/config';
import { parseAllowedOrigins } from '../lambdas/http/cors';
import { parseTrustedProxies } from '../lambdas/http/trusted-proxies';
import { LIFETIME_GRAMMAR, parseLifetime } from '../lambdas/auth/share-tokens';
import type { Node } from 'constructs';
import { Construct } from 'constructs';
import { ArchiveAlarms } from './constructs/alarms';
import { authorizationFromContext, oidcSettingsFromContext, type ApiAuthorization, type OidcSettings } from './auth-context';
import { ArchiveContextError } from './context-error';
import { ApiClientsTable } from './constructs/clients-table';
import { DicomwebApi } from './constructs/api';
import { DimseGateway } from './constructs/dimse-gateway';
import { dimseSettingsFromContext } from './dimse-context';
import type { GsiProjections, StorageTiering } from './constructs/storage-tiering';
import { gsiProjectionsFromContext, storageTieringFromContext } from './storage-context';
import { ArchiveLogs } from './constructs/logs';
import { pascal, type FunctionNetwork } from './constructs/dicomweb-function';
import { SendWorkflow, type DestinationEntry } from './constructs/send-workflow';
import { ArchiveStorage } from './constructs/storage';
import type { ViewerSite } from './constructs/viewer';
import { addArchiveViewer, ViewerDistMissingError } from './archive-viewer';
import { viewerSettingsFromContext } from './viewer-context';

/** The deployment choices read from cdk.json context (or `cdk synth -c key=value`). */
export interface ArchiveSettings {
  /** Context `auth`: 'oidc' (default), 'iam' or 'none'; 'cognito' is 'oidc' with the stack's own user pool. */
  readonly authorization: ApiAuthorization;
  /**
   * Auth 'oidc' (lib/auth-context.ts): contexts `oidcIssuer`, `oidcAudience`, `oidcScopePrefix`,
   * `oidcJwksUri` (an external issuer), `cognitoDomainPrefix`, `oauthCallbackUrls`, `oauthLogoutUrls`
   * (the stack's own user pool), `authorizerCacheSeconds`.
   */
  readonly oidc: OidcSettings;
  /** Context `corsAllowedOrigins`: browser origins allowed by CORS (CORS_ALLOWED_ORIGINS of lambdas/config.ts). */
  readonly corsAllowedOrigins: readonly string[];
  /**
   * Context `trustedProxies`: peers whose forwarded headers give the public URIs (TRUSTED_PROXIES of
   * lambdas/config.ts); `*` behind a CloudFront distribution that overwrites them. None by default.
   */
  readonly trustedProxies?: readonly string[];
  /** Context `shareMaxExpiry`: the longest lifetime of a share link (SHARE_MAX_EXPIRY); 30d by default. */
  readonly shareMaxExpiry?: string;
  /** Context `allowUnauthenticated`: must be 'true' for auth 'none'. */
  readonly allowUnauthenticated: boolean;
  /** Context `waf`: 'false' leaves out the WAFv2 web ACL. */
  readonly waf: boolean;
  /** Context `retainData`: 'false' destroys bucket, table and keys with the stack. */
  readonly retainData: boolean;
  /** Contexts `instanceTier`, `instanceTierAfterDays`, `noncurrentVersionDays`, `tableClass` (lib/storage-context.ts). */
  readonly storageTiering: StorageTiering;
  /** Context `gsiProjections` (lib/storage-context.ts). */
  readonly gsiProjections: GsiProjections;
  /** Context `reservedConcurrency`: reserved concurrent executions of each function. */
  readonly reservedConcurrency?: number;
  /** Context `indexShards`: INDEX_SHARDS of lambdas/config.ts. */
  readonly indexShards?: number;
  /** Context `sendBatchSize`: instances per Deliver call (default 10). */
  readonly sendBatchSize: number;
  /** Context `sendMaxConcurrency`: Deliver calls running at once (default 4). */
  readonly sendMaxConcurrency: number;
  /** Context `sendMaxBatchBytes`: SEND_MAX_BATCH_BYTES, bytes of one Deliver Store request (default lambdas/config.ts DEFAULT_SEND_MAX_BATCH_BYTES). */
  readonly sendMaxBatchBytes?: number;
  /** Contexts `sendWaitMs`, `sendRetryAfterSeconds`, `sendResultTtlSeconds`, `sendTombstoneTtlSeconds`. */
  readonly sendWaitMs?: number;
  readonly sendRetryAfterSeconds?: number;
  readonly sendResultTtlSeconds?: number;
  readonly sendTombstoneTtlSeconds?: number;
  /** Context `destinations`: initial destination registry entries, without credentials. */
  readonly destinations: readonly DestinationEntry[];
  /**
   * Contexts `deliverVpcId` and `deliverSubnetIds` (comma-separated): subnets of an existing VPC where
   * Deliver runs, to reach destinations behind a VPN or Direct Connect. Both or neither.
   */
  readonly deliverNetwork?: FunctionNetwork;
  /** Contexts `throttlingRateLimit` and `throttlingBurstLimit`: stage throttling (default DEFAULT_THROTTLING). */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
  /** Context `apiExecutionLogs`: API Gateway execution logs at ERROR; needs the account's API Gateway CloudWatch role. */
  readonly apiExecutionLogs: boolean;
  /** Context `alarmEmail`: an address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
}

export { ArchiveContextError, ViewerDistMissingError };

/** Reads the settings from context; values may be JSON booleans/numbers (cdk.json) or strings (-c). */
export function settingsFromContext(node: Node): ArchiveSettings {
  const flag = (key: string, fallback: boolean): boolean => {
    const v: unknown = node.tryGetContext(key);
    if (v === undefined) return fallback;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw new ArchiveContextError(key, v, "'true' or 'false'");
  };
  const count = (key: string, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    const v: unknown = node.tryGetContext(key);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new ArchiveContextError(key, v, 'a positive integer');
    if (n > max) throw new ArchiveContextError(key, v, `at most ${max}`);
    return n;
  };
  const destinations = destinationsFromContext(node.tryGetContext('destinations'));
  return {
    authorization: authorizationFromContext(node),
    oidc: oidcSettingsFromContext(node),
    corsAllowedOrigins: corsOriginsFromContext(node.tryGetContext('corsAllowedOrigins')),
    trustedProxies: trustedProxiesFromContext(node.tryGetContext('trustedProxies')),
    shareMaxExpiry: lifetimeFromContext('shareMaxExpiry', node.tryGetContext('shareMaxExpiry')),
    allowUnauthenticated: flag('allowUnauthenticated', false),
    waf: flag('waf', true),
    retainData: flag('retainData', true),
    storageTiering: storageTieringFromContext(node),
    gsiProjections: gsiProjectionsFromContext(node),
    reservedConcurrency: count('reservedConcurrency'),
    indexShards: count('indexShards'),
    sendBatchSize: count('sendBatchSize') ?? 10,
    sendMaxConcurrency: count('sendMaxConcurrency') ?? 4,
    sendMaxBatchBytes: count('sendMaxBatchBytes'),
    // The send function reads SEND_WAIT_MS once and refuses more: refused here, before a deploy.
    sendWaitMs: count('sendWaitMs', SEND_WAIT_MS_MAX),
    sendRetryAfterSeconds: count('sendRetryAfterSeconds'),
    sendResultTtlSeconds: count('sendResultTtlSeconds'),
    sendTombstoneTtlSeconds: count('sendTombstoneTtlSeconds'),
    destinations,
    deliverNetwork: deliverNetworkFromContext(node.tryGetContext('deliverVpcId'), node.tryGetContext('deliverSubnetIds')),
    throttlingRateLimit: count('throttlingRateLimit'),
    throttlingBurstLimit: count('throttlingBurstLimit'),
    apiExecutionLogs: flag('apiExecutionLogs', false),
    alarmEmail: emailFromContext(node.tryGetContext('alarmEmail')),
  };
}

/** Context `corsAllowedOrigins`: comma-separated or a JSON array, validated as CORS_ALLOWED_ORIGINS is. */
function corsOriginsFromContext(value: unknown): readonly string[] {
  try {
    return parseAllowedOrigins(value);
  } catch {
    throw new ArchiveContextError(
      'corsAllowedOrigins',
      value,
      'comma-separated or a JSON array of https://host[:port] (or http://localhost|127.0.0.1[:port]) origins',
    );
  }
}

/** Context `trustedProxies`: comma-separated addresses and CIDR blocks, or `*`, validated as TRUSTED_PROXIES is. */
function trustedProxiesFromContext(value: unknown): readonly string[] {
  if (value === undefined || value === '') return [];
  try {
    if (typeof value !== 'string') throw new Error('not a string');
    return parseTrustedProxies(value);
  } catch {
    throw new ArchiveContextError('trustedProxies', value, "comma-separated IPv4/IPv6 addresses and CIDR blocks, or '*'");
  }
}

/** A lifetime such as `30d` (lambdas/auth/share-tokens.ts), or absent. */
function lifetimeFromContext(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && parseLifetime(value) !== undefined) return value;
  throw new ArchiveContextError(name, value, LIFETIME_GRAMMAR);
}

/** Context `alarmEmail`: one e-mail address, or absent. */
function emailFromContext(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
    throw new ArchiveContextError('alarmEmail', value, 'an e-mail address');
  return value;
}

/** Contexts `deliverVpcId` and `deliverSubnetIds`: an existing VPC's id and some of its subnets' ids, or neither. */
function deliverNetworkFromContext(vpcId: unknown, subnetIds: unknown): FunctionNetwork | undefined {
  const absent = (v: unknown) => v === undefined || v === '';
  if (absent(vpcId) && absent(subnetIds)) return undefined;
  if (typeof vpcId !== 'string' || !/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) {
    throw new ArchiveContextError('deliverVpcId', vpcId, 'a VPC id (vpc-...) when deliverSubnetIds is given');
  }
  const ids = Array.isArray(subnetIds) ? subnetIds : typeof subnetIds === 'string' ? subnetIds.split(',').map((s) => s.trim()) : [];
  if (ids.length === 0 || !ids.every((s) => typeof s === 'string' && /^subnet-[0-9a-f]{8,17}$/.test(s))) {
    throw new ArchiveContextError('deliverSubnetIds', subnetIds, 'comma-separated subnet ids (subnet-...) of deliverVpcId');
  }
  return { vpcId, subnetIds: ids as string[] };
}

/** Fields of lambdas/send/destinations.ts that hold credentials: never in context. */
const CREDENTIAL_FIELDS = ['token', 'password', 'clientSecret'];

/**
 * Context `destinations`: a JSON array (cdk.json) or its text (-c destinations='[...]') of registry
 * entries with a URL and no credentials, which would otherwise land in cdk.json and the template.
 */
function destinationsFromContext(value: unknown): DestinationEntry[] {
  if (value === undefined || value === '') return [];
  const expected = 'a JSON array of {"url": ..., "auth": {"type": ...}} entries without credentials';
  let entries: unknown = value;
  if (typeof value === 'string') {
    try {
      entries = JSON.parse(value);
    } catch {
      throw new ArchiveContextError('destinations', value, expected);
    }
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!Array.isArray(entries)) throw new ArchiveContextError('destinations', value, expected);
  for (const entry of entries) {
    const valid =
      isObject(entry) &&
      typeof entry.url === 'string' &&
      /^https?:\/\//.test(entry.url) &&
      (entry.auth === undefined || (isObject(entry.auth) && CREDENTIAL_FIELDS.every((f) => !(f in (entry.auth as object)))));
    // The value may hold a credential: name the key only.
    if (!valid) throw new ArchiveContextError('destinations', '(value not shown)', expected);
  }
  return entries as DestinationEntry[];
}

export interface ArchiveStackProps extends StackProps {
  /** Overrides of the context settings. */
  readonly settings?: Partial<ArchiveSettings>;
  /**
   * With context viewer=true: the directory of the viewer's build (lib/viewer/dist.ts
   * ensureViewerDist, which lib/app.ts awaits before synth); context `viewerDist` takes precedence.
   */
  readonly viewerDist?: string;
  /** Repository root holding the handler entries (default: this repository). */
  readonly projectRoot?: string;
}

/**
 * The archive (docs/architecture.md): storage, the Send workflow (Step Functions) over it, then the DICOMweb API
 * whose Send function starts that workflow; with context dimse=true the DIMSE gateway (Fargate behind
 * an NLB, lib/constructs/dimse-gateway.ts) over the same storage and destination registry.
 */
export class ArchiveStack extends Stack {
  readonly settings: ArchiveSettings;
  readonly logs: ArchiveLogs;
  readonly storage: ArchiveStorage;
  /** The API key clients' table: whatever verifies keys (the API's functions, an authorizer) reads it. */
  readonly clients: ApiClientsTable;
  readonly send: SendWorkflow;
  readonly dicomweb: DicomwebApi;
  readonly alarms: ArchiveAlarms;
  /** Present with context dimse=true. */
  readonly dimseGateway?: DimseGateway;
  /** Present with context viewer=true: the OHIF Viewer and the API on one CloudFront distribution. */
  readonly viewer?: ViewerSite;

  constructor(scope: Construct, id: string, props: ArchiveStackProps = {}) {
    super(scope, id, props);
    this.settings = { ...settingsFromContext(this.node), ...props.settings };
    const { retainData } = this.settings;

    this.logs = new ArchiveLogs(this, 'Logs', { retainData });
    this.storage = new ArchiveStorage(this, 'Storage', {
      retainData,
      tiering: this.settings.storageTiering,
      gsiProjections: this.settings.gsiProjections,
      corsAllowedOrigins: this.settings.corsAllowedOrigins,
      sendResultTtlSeconds: this.settings.sendResultTtlSeconds,
    });
    this.clients = new ApiClientsTable(this, 'Clients', { retainData });
    const settings = this.settings;
    const environment = {
      ...(settings.indexShards ? { INDEX_SHARDS: String(settings.indexShards) } : {}),
      ...(settings.trustedProxies?.length ? { TRUSTED_PROXIES: settings.trustedProxies.join(',') } : {}),
      ...(settings.shareMaxExpiry ? { SHARE_MAX_EXPIRY: settings.shareMaxExpiry } : {}),
    };
    this.send = new SendWorkflow(this, 'Send', {
      storage: this.storage,
      logs: this.logs,
      batchSize: settings.sendBatchSize,
      maxConcurrency: settings.sendMaxConcurrency,
      destinations: settings.destinations,
      environment: {
        ...environment,
        SEND_MAX_BATCH_BYTES: optionalString(settings.sendMaxBatchBytes),
        SEND_WAIT_MS: optionalString(settings.sendWaitMs),
        SEND_RETRY_AFTER_SECONDS: optionalString(settings.sendRetryAfterSeconds),
        SEND_RESULT_TTL_SECONDS: optionalString(settings.sendResultTtlSeconds),
        SEND_TOMBSTONE_TTL_SECONDS: optionalString(settings.sendTombstoneTtlSeconds),
      },
      reservedConcurrentExecutions: settings.reservedConcurrency,
      deliverNetwork: settings.deliverNetwork,
      retainData,
      projectRoot: props.projectRoot,
    });
    this.dicomweb = new DicomwebApi(this, 'Dicomweb', {
      storage: this.storage,
      clients: this.clients,
      logs: this.logs,
      authorization: settings.authorization,
      oidc: settings.oidc,
      retainData,
      allowUnauthenticated: settings.allowUnauthenticated,
      corsAllowedOrigins: settings.corsAllowedOrigins,
      waf: settings.waf,
      throttlingRateLimit: settings.throttlingRateLimit,
      throttlingBurstLimit: settings.throttlingBurstLimit,
      executionLogs: settings.apiExecutionLogs,
      reservedConcurrentExecutions: settings.reservedConcurrency,
      environment,
      groups: {
        send: {
          environment: this.send.apiEnvironment,
          grant: (policy) => {
            this.send.grantStartSend(policy);
            this.send.grantReadDestinations(policy);
          },
        },
      },
      projectRoot: props.projectRoot,
    });

    this.alarms = new ArchiveAlarms(this, 'Alarms', {
      stage: this.dicomweb.api.deploymentStage,
      functions: {
        ...this.dicomweb.functions,
        ...prefixed('send', this.send.functions),
        ...(this.dicomweb.auth.authorizerFunction ? { authorizer: this.dicomweb.auth.authorizerFunction } : {}),
      },
      sendStateMachine: this.send.stateMachine,
      email: settings.alarmEmail,
      retainData,
    });

    // DIMSE gateway on Fargate behind an NLB (lib/constructs/dimse-gateway.ts), with context dimse=true.
    const dimse = dimseSettingsFromContext(this.node);
    if (dimse) {
      this.dimseGateway = new DimseGateway(this, 'DimseGateway', {
        storage: this.storage,
        logs: this.logs,
        send: this.send,
        ...dimse,
        retainData,
        projectRoot: props.projectRoot,
      });
      this.alarms.watchDimseGateway(this.dimseGateway.targetGroup);
      new CfnOutput(this, 'DimseGatewayAddress', {
        value: `${dimse.aeTitle}@${this.dimseGateway.loadBalancer.loadBalancerDnsName}:${dimse.port}`,
      });
      // For `aws elbv2 modify-load-balancer-attributes` before `cdk destroy` of retained data (deletion protection).
      new CfnOutput(this, 'DimseLoadBalancerArn', { value: this.dimseGateway.loadBalancer.loadBalancerArn });
    }

    // The OHIF Viewer and the API on one CloudFront distribution (lib/constructs/viewer.ts), with context viewer=true.
    const viewer = viewerSettingsFromContext(this.node, settings.authorization, settings.oidc);
    if (viewer) this.viewer = addArchiveViewer(this, viewer, viewer.distDir ?? props.viewerDist);

    new CfnOutput(this, 'ApiUrl', {
      description: 'Studies service root (PS3.18 8.2)',
      value: this.dicomweb.serviceRoot,
    });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.storage.table.tableName });
    new CfnOutput(this, 'ClientsTableName', { value: this.clients.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'CloudWatch alarms of the archive: subscribe here',
      value: this.alarms.topic.topicArn,
    });
    new CfnOutput(this, 'SendStateMachineArn', { value: this.send.stateMachine.stateMachineArn });
    new CfnOutput(this, 'DestinationsSecretArn', {
      description: 'SEND-RS destination registry: put credentials here (lib/constructs/send-workflow.ts)',
      value: this.send.destinations.secretArn,
    });
    // Auth 'oidc': the issuer, and with the stack's user pool its endpoints and client IDs (never a secret).
    for (const [name, output] of Object.entries(this.dicomweb.auth.outputs())) new CfnOutput(this, name, output);
  }
}

/** `{ resolve: f }` -> `{ sendResolve: f }`: names unique beside the API's function groups. */
function prefixed<T>(prefix: string, entries: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(entries).map(([name, value]) => [prefix + pascal(name), value]));
}

function optionalString(n: number | undefined): string | undefined {
  return n === undefined ? undefined : String(n);
}
