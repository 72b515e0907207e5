import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ConfigError } from '../../lambdas/config';
import { loadDimseConfig } from '../../lambdas/dimse/config';
import { PROJECT_ROOT } from './dicomweb-function';
import type { ArchiveLogs } from './logs';
import type { SendWorkflow } from './send-workflow';
import type { ArchiveStorage } from './storage';

export interface DimseGatewayProps {
  readonly storage: ArchiveStorage;
  readonly logs: ArchiveLogs;
  /** The destination registry (AE registry of C-MOVE) is the Send workflow's secret. */
  readonly send: SendWorkflow;
  /** AE Title of the gateway (DIMSE_AET). */
  readonly aeTitle: string;
  /** TCP port of the load balancer and the container (DIMSE_PORT). */
  readonly port: number;
  /** Networks allowed to open associations (the NLB is internal: reach it over VPN or Direct Connect). */
  readonly allowedCidrs: readonly string[];
  /** Seconds an idle TCP connection stays open through the NLB (60 to 6000; default DEFAULT_IDLE_TIMEOUT_SECONDS). */
  readonly idleTimeoutSeconds?: number;
  /** IPv4 CIDR of the gateway's VPC, /16 to /22 (default 10.0.0.0/16): one free in the site's routing. */
  readonly vpcCidr?: string;
  /** Proxy Option: SEND-RS origin server of every C-MOVE (DIMSE_MOVE_PROXY_ORIGIN). */
  readonly moveProxyOrigin?: string;
  /**
   * OAuth 2.0 client credentials of the proxy at the origin server (RFC 6749 4.4): token endpoint,
   * client id and scope as variables (DIMSE_MOVE_PROXY_TOKEN_URL, _CLIENT_ID, _SCOPE); the client
   * secret only as a Secrets Manager secret (its complete ARN), injected by ECS at task start.
   */
  readonly moveProxyTokenUrl?: string;
  readonly moveProxyClientId?: string;
  readonly moveProxyScope?: string;
  readonly moveProxyClientSecretArn?: string;
  /** Associations served at once (DIMSE_MAX_ASSOCIATIONS; the gateway's default when unset). */
  readonly maxAssociations?: number;
  /** Largest C-STORE data set stored (DIMSE_MAX_OBJECT_BYTES; the gateway's default when unset). */
  readonly maxObjectBytes?: number;
  /** C-STORE data set bytes held at once over all associations (DIMSE_MAX_BUFFERED_BYTES; the gateway's default when unset). */
  readonly maxBufferedBytes?: number;
  readonly environment?: Readonly<Record<string, string>>;
  /** Repository root holding lib/dimse/Dockerfile (default: this repository). */
  readonly projectRoot?: string;
  /** Deletion protection of the load balancer, like the archive's data (default true). */
  readonly retainData?: boolean;
}

/**
 * The task's CPU architecture, in ECS's and Docker's spelling from one name: the image is built for
 * the platform the task runs on, whatever the CPU of the machine running `cdk deploy` (a cross build
 * there needs Docker buildx with QEMU binfmt for arm64).
 */
export const TASK_ARCHITECTURE = 'arm64';
const TASK_CPU = ecs.CpuArchitecture.of(TASK_ARCHITECTURE.toUpperCase());
export const IMAGE_PLATFORM = ecrAssets.Platform.custom(`linux/${TASK_ARCHITECTURE}`);

/**
 * An association may stay idle between DIMSE messages for as long as its peers allow (a modality
 * keeping one open between studies): an hour, where the NLB's default is 350 s. The NLB allows 60 to 6000 s.
 */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 3600;
export const DEFAULT_VPC_CIDR = '10.0.0.0/16';

/**
 * The DIMSE gateway (lambdas/dimse) in AWS: one Fargate service in private subnets behind an internal
 * Network Load Balancer (TCP passthrough, so the upper layer of PS3.8 reaches the SCP unchanged). The
 * image is built from lib/dimse/Dockerfile; synth only stages the build context (no Docker needed),
 * `cdk deploy` builds it. The task reads and writes the archive's bucket and table like the Store,
 * Search and Retrieve functions, and reads the destination registry secret for C-MOVE destinations.
 * Private subnets reach peers (C-STORE sub-operations, STOW-RS, the proxy origin) through one NAT gateway.
 */
export class DimseGateway extends Construct {
  readonly vpc: ec2.Vpc;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly service: ecs.FargateService;
  /** The tasks behind the NLB (its HealthyHostCount is alarmed, lib/constructs/alarms.ts). */
  readonly targetGroup: elbv2.NetworkTargetGroup;

  constructor(scope: Construct, id: string, props: DimseGatewayProps) {
    super(scope, id);
    // A listener needs a fixed port (the gateway alone would take 0, an ephemeral one, as tests do).
    if (!Number.isInteger(props.port) || props.port < 1 || props.port > 65535)
      throw new Error(`context ${SETTING_NAMES.DIMSE_PORT} must be a TCP port from 1 to 65535`);
    const dimseEnvironment = dimseEnvironmentOf(props);
    // The secret's value is not known at synth: a stand-in lets the gateway's rules check the rest.
    checkWithGatewayRules({
      ...dimseEnvironment,
      ...(props.moveProxyClientSecretArn ? { DIMSE_MOVE_PROXY_CLIENT_SECRET: 'from Secrets Manager' } : {}),
    });
    const flowLogs = props.logs.logGroup(this, 'FlowLogs');
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr ?? DEFAULT_VPC_CIDR),
      maxAzs: 2,
      natGateways: 1,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) } },
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskPolicy = new iam.ManagedPolicy(this, 'TaskPolicy', {
      description: 'DIMSE gateway: archive bucket, table, destination registry',
    });
    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      managedPolicies: [taskPolicy],
    });
    props.storage.grantObjectRead(taskPolicy);
    props.storage.grantObjectWrite(taskPolicy);
    // C-STORE shares the Store service, which removes the objects of a write that lost a race.
    props.storage.grantObjectDelete(taskPolicy, 'studies/*');
    props.storage.grantIndexRead(taskPolicy);
    props.storage.grantIndexWrite(taskPolicy);
    props.send.grantReadDestinations(taskPolicy);

    const task = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 512,
      memoryLimitMiB: 1024,
      taskRole,
      runtimePlatform: { cpuArchitecture: TASK_CPU, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    task.addContainer('Gateway', {
      image: ecs.ContainerImage.fromAsset(props.projectRoot ?? PROJECT_ROOT, {
        file: 'lib/dimse/Dockerfile',
        platform: IMAGE_PLATFORM,
        exclude: ['node_modules', 'cdk.out', '.data', '.git', 'test', 'docs', '**/*.dcm'],
      }),
      portMappings: [{ containerPort: props.port, protocol: ecs.Protocol.TCP }],
      environment: {
        BUCKET_NAME: props.storage.bucket.bucketName,
        TABLE_NAME: props.storage.table.tableName,
        DESTINATIONS_SECRET_ARN: props.send.destinations.secretArn,
        ...dimseEnvironment,
        ...props.environment,
      },
      ...(props.moveProxyClientSecretArn
        ? {
            secrets: {
              DIMSE_MOVE_PROXY_CLIENT_SECRET: ecs.Secret.fromSecretsManager(
                secretsmanager.Secret.fromSecretCompleteArn(this, 'MoveProxyClientSecret', props.moveProxyClientSecretArn),
              ),
            },
          }
        : {}),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'dimse', logGroup: props.logs.logGroup(this, 'Logs') }),
      readonlyRootFilesystem: true,
    });

    // The NLB's security group admits the allowed networks on the DICOM port; the tasks admit the NLB
    // alone, which without client IP preservation is the source of every association and health check.
    const nlbSecurityGroup = new ec2.SecurityGroup(this, 'NlbSecurityGroup', {
      vpc: this.vpc,
      description: 'DIMSE gateway NLB: associations from the allowed networks only',
      allowAllOutbound: false,
    });
    for (const cidr of props.allowedCidrs) {
      nlbSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(props.port), 'DICOM associations (PS3.8)');
    }
    const securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'DIMSE gateway tasks: associations and health checks from the NLB only',
      allowAllOutbound: true,
    });
    securityGroup.addIngressRule(nlbSecurityGroup, ec2.Port.tcp(props.port), 'Associations and health checks through the NLB');
    nlbSecurityGroup.addEgressRule(securityGroup, ec2.Port.tcp(props.port), 'To the gateway tasks');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition: task,
      desiredCount: 1,
      assignPublicIp: false,
      securityGroups: [securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      // The one task keeps serving until its replacement is healthy.
      minHealthyPercent: 100,
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc: this.vpc,
      internetFacing: false,
      deletionProtection: props.retainData ?? true,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [nlbSecurityGroup],
      // One task serves both zones: a zone without a task must still forward its connections.
      crossZoneEnabled: true,
    });
    const listener = this.loadBalancer.addListener('Dimse', {
      port: props.port,
      protocol: elbv2.Protocol.TCP,
      tcpIdleTimeout: Duration.seconds(props.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS),
    });
    this.targetGroup = listener.addTargets('Gateway', {
      port: props.port,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service],
      // An association may stay idle between DIMSE messages: keep the connection, drain slowly.
      deregistrationDelay: Duration.seconds(60),
      healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(30) },
    });
    // Connections reach the tasks from the NLB's address (what their security group admits).
    this.targetGroup.setAttribute('preserve_client_ip.enabled', 'false');

    this.acknowledge(task, listener, props.retainData ?? true);
  }

  /** cdk-nag findings that are design choices, each with its reason. */
  private acknowledge(task: ecs.FargateTaskDefinition, listener: elbv2.NetworkListener, retainData: boolean): void {
    const ack = (scope: Construct | undefined, id: string, reason: string) => scope && Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.loadBalancer,
      'AwsSolutions-ELB2',
      'TCP passthrough of the DICOM upper layer: connections are recorded by the VPC flow logs, DIMSE operations by the gateway log (no patient data).',
    );
    if (!retainData) {
      ack(
        this.loadBalancer,
        'HIPAA.Security-ELBDeletionProtectionEnabled',
        'Context retainData=false asks for a stack that `cdk destroy` removes whole; the NLB holds no data.',
      );
    }
    ack(
      this.loadBalancer,
      'HIPAA.Security-ELBLoggingEnabled',
      'TCP passthrough: connections are recorded by the VPC flow logs of this VPC.',
    );
    ack(
      listener,
      'HIPAA.Security-ELBv2ACMCertificateRequired',
      'The NLB is internal, reached over VPN or Direct Connect; DICOM TLS (PS3.15 B.1) can be added with a TLS listener and an ACM certificate of the site.',
    );
    ack(
      task,
      'AwsSolutions-ECS2',
      'The environment holds names (bucket, table, secret ARN, AE Title, port), no secret; credentials come from Secrets Manager at run time.',
    );
    const executionPolicy = task.executionRole?.node.tryFindChild('DefaultPolicy');
    ack(
      executionPolicy,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permission; the rest of the CDK-generated execution policy names the asset repository and the log group.',
    );
    ack(
      executionPolicy,
      'HIPAA.Security-IAMNoInlinePolicy',
      'CDK-generated execution role policy (image pull, log streams) of this task only.',
    );
    ack(
      this.vpc.node.tryFindChild('all')?.node.tryFindChild('IAMRole')?.node.tryFindChild('DefaultPolicy'),
      'HIPAA.Security-IAMNoInlinePolicy',
      'CDK-generated policy of the VPC flow log role, writing to its one log group.',
    );
    for (const subnet of this.vpc.publicSubnets) {
      ack(
        subnet.node.tryFindChild('DefaultRoute'),
        'HIPAA.Security-VPCNoUnrestrictedRouteToIGW',
        'The public subnets hold only the NAT gateway that lets the tasks reach DICOM peers; no task or load balancer is in them.',
      );
    }
  }
}

/** The gateway's deployment choices that context gives (lib/dimse-context.ts). */
export type DimseSettings = Pick<
  DimseGatewayProps,
  | 'aeTitle'
  | 'port'
  | 'allowedCidrs'
  | 'idleTimeoutSeconds'
  | 'vpcCidr'
  | 'moveProxyOrigin'
  | 'moveProxyTokenUrl'
  | 'moveProxyClientId'
  | 'moveProxyScope'
  | 'moveProxyClientSecretArn'
  | 'maxAssociations'
  | 'maxObjectBytes'
  | 'maxBufferedBytes'
>;

/** The container's DIMSE_* variables (lambdas/dimse/config.ts) and the context setting each comes from. */
const SETTING_NAMES = {
  DIMSE_AET: 'dimseAet',
  DIMSE_PORT: 'dimsePort',
  DIMSE_MOVE_PROXY_ORIGIN: 'dimseMoveProxyOrigin',
  DIMSE_MOVE_PROXY_TOKEN_URL: 'dimseMoveProxyTokenUrl',
  DIMSE_MOVE_PROXY_CLIENT_ID: 'dimseMoveProxyClientId',
  DIMSE_MOVE_PROXY_SCOPE: 'dimseMoveProxyScope',
  DIMSE_MAX_ASSOCIATIONS: 'dimseMaxAssociations',
  DIMSE_MAX_OBJECT_BYTES: 'dimseMaxObjectBytes',
  DIMSE_MAX_BUFFERED_BYTES: 'dimseMaxBufferedBytes',
} as const;

function dimseEnvironmentOf(settings: DimseSettings): Record<string, string> {
  const variables: Record<keyof typeof SETTING_NAMES, string | number | undefined> = {
    DIMSE_AET: settings.aeTitle,
    DIMSE_PORT: settings.port,
    DIMSE_MOVE_PROXY_ORIGIN: settings.moveProxyOrigin,
    DIMSE_MOVE_PROXY_TOKEN_URL: settings.moveProxyTokenUrl,
    DIMSE_MOVE_PROXY_CLIENT_ID: settings.moveProxyClientId,
    DIMSE_MOVE_PROXY_SCOPE: settings.moveProxyScope,
    DIMSE_MAX_ASSOCIATIONS: settings.maxAssociations,
    DIMSE_MAX_OBJECT_BYTES: settings.maxObjectBytes,
    DIMSE_MAX_BUFFERED_BYTES: settings.maxBufferedBytes,
  };
  return Object.fromEntries(
    Object.entries(variables)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}

/**
 * The gateway refuses to start on settings its configuration rejects (lambdas/dimse/config.ts): the
 * same rules, applied at synth, so a deployment does not end with a task that stops at once. Errors
 * name the context settings.
 */
function checkWithGatewayRules(environment: Record<string, string>): void {
  try {
    loadDimseConfig(environment);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const names: Record<string, string> = { ...SETTING_NAMES, DIMSE_MOVE_PROXY_CLIENT_SECRET: 'dimseMoveProxyClientSecretArn' };
    throw new Error(`context ${error.message.replace(/DIMSE_[A-Z_]+/g, (name) => names[name] ?? name)}`);
  }
}
