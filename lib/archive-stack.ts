import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Node } from 'constructs';
import { Construct } from 'constructs';
import { DicomwebApi, type ApiAuthorization } from './constructs/api';
import { ArchiveLogs } from './constructs/logs';
import { ArchiveStorage } from './constructs/storage';

/** The deployment choices read from cdk.json context (or `cdk synth -c key=value`). */
export interface ArchiveSettings {
  /** Context `auth`: 'iam' (default), 'cognito' or 'none'. */
  readonly authorization: ApiAuthorization;
  /** Context `allowUnauthenticated`: must be 'true' for auth 'none'. */
  readonly allowUnauthenticated: boolean;
  /** Context `waf`: 'false' leaves out the WAFv2 web ACL. */
  readonly waf: boolean;
  /** Context `retainData`: 'false' destroys bucket, table and keys with the stack. */
  readonly retainData: boolean;
  /** Context `reservedConcurrency`: reserved concurrent executions of each function. */
  readonly reservedConcurrency?: number;
  /** Context `indexShards`: INDEX_SHARDS of lambdas/config.ts. */
  readonly indexShards?: number;
}

export class ArchiveContextError extends Error {
  constructor(key: string, value: unknown, expected: string) {
    super(`context ${key} must be ${expected}, got ${JSON.stringify(value)}`);
    this.name = 'ArchiveContextError';
  }
}

const AUTHORIZATIONS: readonly ApiAuthorization[] = ['iam', 'cognito', 'none'];

/** Reads the settings from context; values may be JSON booleans/numbers (cdk.json) or strings (-c). */
export function settingsFromContext(node: Node): ArchiveSettings {
  const flag = (key: string, fallback: boolean): boolean => {
    const v: unknown = node.tryGetContext(key);
    if (v === undefined) return fallback;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw new ArchiveContextError(key, v, "'true' or 'false'");
  };
  const count = (key: string): number | undefined => {
    const v: unknown = node.tryGetContext(key);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new ArchiveContextError(key, v, 'a positive integer');
    return n;
  };
  const auth: unknown = node.tryGetContext('auth') ?? 'iam';
  if (!AUTHORIZATIONS.includes(auth as ApiAuthorization)) {
    throw new ArchiveContextError('auth', auth, AUTHORIZATIONS.map((a) => `'${a}'`).join(', '));
  }
  return {
    authorization: auth as ApiAuthorization,
    allowUnauthenticated: flag('allowUnauthenticated', false),
    waf: flag('waf', true),
    retainData: flag('retainData', true),
    reservedConcurrency: count('reservedConcurrency'),
    indexShards: count('indexShards'),
  };
}

export interface ArchiveStackProps extends StackProps {
  /** Overrides of the context settings. */
  readonly settings?: Partial<ArchiveSettings>;
  /** Repository root holding the handler entries (default: this repository). */
  readonly projectRoot?: string;
}

/**
 * The archive (DESIGN.md): storage, then the DICOMweb API over it. The Send workflow (Step
 * Functions) and the DIMSE gateway (Fargate) are constructs still to come; each will take
 * `storage` and `logs` from this stack as the API does.
 */
export class ArchiveStack extends Stack {
  readonly settings: ArchiveSettings;
  readonly logs: ArchiveLogs;
  readonly storage: ArchiveStorage;
  readonly dicomweb: DicomwebApi;

  constructor(scope: Construct, id: string, props: ArchiveStackProps = {}) {
    super(scope, id, props);
    this.settings = { ...settingsFromContext(this.node), ...props.settings };
    const { retainData } = this.settings;

    this.logs = new ArchiveLogs(this, 'Logs', { retainData });
    this.storage = new ArchiveStorage(this, 'Storage', { retainData });
    this.dicomweb = new DicomwebApi(this, 'Dicomweb', {
      storage: this.storage,
      logs: this.logs,
      authorization: this.settings.authorization,
      allowUnauthenticated: this.settings.allowUnauthenticated,
      waf: this.settings.waf,
      reservedConcurrentExecutions: this.settings.reservedConcurrency,
      environment: this.settings.indexShards ? { INDEX_SHARDS: String(this.settings.indexShards) } : {},
      projectRoot: props.projectRoot,
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Studies service root (PS3.18 8.2)',
      value: this.dicomweb.serviceRoot,
    });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.storage.table.tableName });
    if (this.dicomweb.userPool && this.dicomweb.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.dicomweb.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.dicomweb.userPoolClient.userPoolClientId });
    }
  }
}
