import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { LAMBDA_BUNDLE } from './bundling';
import type { ArchiveLogs } from './logs';

/** The repository root: handler entries in lambdas/http/routes.ts are relative to it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Construct id of a function named in camelCase (route group, send task): 'resolve' -> 'Resolve'. */
export function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The authentication variables of lambdas/config.ts (AUTH, OIDC_*, CLIENTS_TABLE_NAME). */
export interface AuthEnvironment {
  readonly AUTH?: string;
  readonly OIDC_ISSUER?: string;
  readonly OIDC_AUDIENCE?: string;
  readonly OIDC_SCOPE_PREFIX?: string;
  readonly OIDC_JWKS_URI?: string;
  readonly CLIENTS_TABLE_NAME?: string;
}

/**
 * The environment variables of lambdas/config.ts that the CDK sets; a typo here fails to compile
 * instead of failing the first request.
 */
export interface FunctionEnvironment extends AuthEnvironment {
  readonly BUCKET_NAME: string;
  readonly TABLE_NAME: string;
  readonly SEND_STATE_MACHINE_ARN?: string;
  readonly DESTINATIONS_SECRET_ARN?: string;
  readonly SEND_BATCH_SIZE?: string;
  readonly SEND_MAX_CONCURRENCY?: string;
  readonly SEND_MAX_BATCH_BYTES?: string;
  readonly SEND_WAIT_MS?: string;
  readonly SEND_RETRY_AFTER_SECONDS?: string;
  readonly SEND_RESULT_TTL_SECONDS?: string;
  readonly SEND_TOMBSTONE_TTL_SECONDS?: string;
  readonly PUBLIC_BASE_URL?: string;
  readonly TRUSTED_PROXIES?: string;
  readonly SHARE_MAX_EXPIRY?: string;
  readonly MAX_REQUEST_BYTES?: string;
  readonly MAX_RESPONSE_BYTES?: string;
  readonly QIDO_MAX_CANDIDATES?: string;
  readonly QIDO_DEFAULT_LIMIT?: string;
  readonly QIDO_MAX_LIMIT?: string;
  readonly INDEX_SHARDS?: string;
  readonly BULKDATA_THRESHOLD?: string;
  readonly CORS_ALLOWED_ORIGINS?: string;
  readonly CLIENTS_TABLE_NAME?: string;
}

export interface DicomwebFunctionProps {
  /** Handler module relative to projectRoot, e.g. lambdas/handlers/store.ts. */
  readonly entry: string;
  readonly handler?: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: FunctionEnvironment;
  readonly logs: ArchiveLogs;
  /** Reserved concurrency; unset leaves the function in the account's unreserved pool. */
  readonly reservedConcurrentExecutions?: number;
  /** Subnets of an existing VPC to run in (its network interfaces there), with TCP egress only. */
  readonly network?: FunctionNetwork;
  /** arm64 unless a layer's native code needs another (the render function's sharp: x86_64). */
  readonly architecture?: lambda.Architecture;
  /** Layers holding the packages the bundle leaves external (`externalModules`). */
  readonly layers?: readonly lambda.ILayerVersion[];
  /** Packages the bundle leaves to a layer, beside LAMBDA_BUNDLE.external (./bundling.ts bundleExternals). */
  readonly externalModules?: readonly string[];
  readonly projectRoot?: string;
}

/**
 * Subnets of an existing VPC for a function that must reach what only that network reaches (Deliver:
 * a destination behind a VPN or Direct Connect). Their route tables must also reach the AWS services
 * the function calls (S3 and DynamoDB gateway endpoints, Secrets Manager and X-Ray by interface
 * endpoints or a NAT gateway): the stack does not change the VPC.
 */
export interface FunctionNetwork {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
}

/**
 * Every Lambda function of the archive, one construct for their shared settings: Node.js 24 on arm64 (x86_64
 * where a layer's native code asks for it), bundled as CommonJS by esbuild (./bundling.ts) with the AWS
 * SDK inside, its own encrypted log group, X-Ray active tracing.
 */
export class DicomwebFunction extends NodejsFunction {
  /** The function's permissions; storage grants add statements here. */
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: DicomwebFunctionProps) {
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const logGroup = props.logs.logGroup(scope, `${id}Logs`);
    // A role whose only permissions are in one customer managed policy: no inline policy, and no
    // AWSLambdaBasicExecutionRole (which allows writing to every log group of the account). The
    // function gets the role without policy updates, so nothing adds statements behind our back.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const policy = new iam.ManagedPolicy(scope, `${id}Policy`, {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    if (props.network) {
      // What Lambda does with the function's role to attach it to the subnets (the actions of
      // AWSLambdaVPCAccessExecutionRole, which would be a second, AWS managed, policy).
      policy.addStatements(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments and PutTelemetryRecords, and the EC2 network interface actions of a function ' +
        'in a VPC, do not support resource-level permissions.',
    });
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(props.environment)) {
      if (value !== undefined) environment[name] = value;
    }

    super(scope, id, {
      entry: path.join(projectRoot, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      layers: props.layers ? [...props.layers] : undefined,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: role.withoutPolicyUpdates(),
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment,
      bundling: {
        format: OutputFormat.CJS,
        target: LAMBDA_BUNDLE.target,
        minify: LAMBDA_BUNDLE.minify,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL, // LAMBDA_BUNDLE.sourcemap: beside the bundle, no sourceMappingURL
        sourcesContent: LAMBDA_BUNDLE.sourcesContent,
        mainFields: [...LAMBDA_BUNDLE.mainFields],
        // better-sqlite3 and a layer's packages: NodejsFunction would otherwise leave @aws-sdk/* to the runtime.
        externalModules: [...new Set([...LAMBDA_BUNDLE.external, ...(props.externalModules ?? [])])],
        esbuildArgs: {
          ...Object.fromEntries(Object.entries(LAMBDA_BUNDLE.alias).map(([from, to]) => [`--alias:${from}`, to])),
          ...Object.fromEntries(Object.entries(LAMBDA_BUNDLE.supported).map(([feature, on]) => [`--supported:${feature}`, String(on)])),
        },
      },
    });

    this.policy = policy;
    // The function must not run before its permissions exist.
    this.node.addDependency(policy);
    Validations.of(this).acknowledge({
      id: 'HIPAA.Security-LambdaDLQ',
      reason:
        'API Gateway and Step Functions Tasks invoke the function synchronously (Step Functions retries and ' +
        'catches failures); a DLQ only applies to asynchronous invocations. The one asynchronous invocation, ' +
        'the delete function continuing a Delete job, loses no work when dropped: the job stays in the index ' +
        'and a DELETE of the resource resumes it.',
    });
    if (props.network) {
      // The VPC is imported by id (no lookup at synth, no change to it): the L1 properties, which is what
      // CloudFormation and cdk-nag read. Egress over TCP only; DNS to the VPC's resolver is not filtered
      // by security groups.
      const egress = new ec2.CfnSecurityGroup(scope, `${id}Egress`, {
        vpcId: props.network.vpcId,
        groupDescription: `DICOMweb archive: ${id} (outbound TCP to destinations and AWS endpoints only)`,
        securityGroupEgress: [{ ipProtocol: 'tcp', fromPort: 0, toPort: 65535, cidrIp: '0.0.0.0/0', description: 'any TCP destination' }],
      });
      (this.node.defaultChild as lambda.CfnFunction).vpcConfig = {
        subnetIds: [...props.network.subnetIds],
        securityGroupIds: [egress.attrGroupId],
      };
    } else {
      Validations.of(this).acknowledge({
        id: 'HIPAA.Security-LambdaInsideVPC',
        reason:
          'The function reaches AWS service endpoints (S3, DynamoDB, Step Functions, Secrets Manager, X-Ray) ' +
          'over TLS with IAM authorization, and Deliver reaches registered DICOMweb destinations over HTTPS; ' +
          'it has no resource inside a VPC to reach (context deliverVpcId and deliverSubnetIds put Deliver in one).',
      });
    }
    if (props.reservedConcurrentExecutions === undefined) {
      Validations.of(this).acknowledge({
        id: 'HIPAA.Security-LambdaConcurrency',
        reason:
          'Reserved concurrency is set from context reservedConcurrency where the account quota allows it; ' +
          'new accounts cannot reserve any. API Gateway stage throttling bounds the load instead.',
      });
    }
  }
}
