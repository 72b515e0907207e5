import { ArnFormat, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { KEY_PREFIXES } from '../../lambdas/storage/keys';
import { buildSendStateMachineDefinition, sendTaskFunctions, type SendTaskName } from '../send-workflow';
import { DicomwebFunction, pascal, type FunctionEnvironment, type FunctionNetwork } from './dicomweb-function';
import type { ArchiveLogs } from './logs';
import type { ArchiveStorage } from './storage';

/** Key patterns of lambdas/storage/keys.ts that the Send workflow touches. */
// Deliver reads the instances a Send selected: studies' and Non-Patient Instances (PS3.18 12).
const INSTANCE_OBJECTS = [`${KEY_PREFIXES.studies}*`, `${KEY_PREFIXES.npi}*`];
const SEND_REQUEST_OBJECTS = `${KEY_PREFIXES.sendRequests}*`;

/**
 * One entry of the destination registry as deployed (lambdas/send/destinations.ts), without
 * credentials: context lands in cdk.json and in the template, so secrets never go there.
 */
export type DestinationEntry = Readonly<Record<string, unknown>>;

export interface SendWorkflowProps {
  readonly storage: ArchiveStorage;
  readonly logs: ArchiveLogs;
  /** Instances per Deliver call: one STOW request or one association (context sendBatchSize). */
  readonly batchSize?: number;
  /** Deliver calls running at once (context sendMaxConcurrency). */
  readonly maxConcurrency?: number;
  /** Initial content of the destination registry (context destinations). */
  readonly destinations?: readonly DestinationEntry[];
  /** Configuration passed to the task functions and the Send API function (INDEX_SHARDS, SEND_*). */
  readonly environment?: Omit<FunctionEnvironment, 'BUCKET_NAME' | 'TABLE_NAME'>;
  readonly reservedConcurrentExecutions?: number;
  /** Subnets Deliver runs in, to reach destinations only they reach (context deliverVpcId, deliverSubnetIds). */
  readonly deliverNetwork?: FunctionNetwork;
  /** Keep the destination registry and its key when the stack is deleted (default). */
  readonly retainData?: boolean;
  /** Repository root holding the handler entries (default: this repository). */
  readonly projectRoot?: string;
}

/**
 * SEND-RS (Supplement 248) in AWS: a Step Functions Standard state machine whose definition is the
 * one lib/send-workflow.ts builds (Resolve -> Distributed Map of Deliver over the manifest ->
 * Finalize, MarkFailed on any failure), its four task functions, and the destination registry.
 *
 * The registry is a Secrets Manager secret, `{"destinations": [...]}` in the format of
 * lambdas/send/destinations.ts. The stack creates it from context `destinations` (entries without
 * credentials); operators then add credentials (bearer token, basic, OAuth2 client credentials) with
 * `aws secretsmanager put-secret-value`. A deployment rewrites the stored value only when context
 * `destinations` changes, and then replaces it whole, credentials included: after the first
 * deployment, manage the registry in the secret and leave the context as it is.
 */
export class SendWorkflow extends Construct {
  /** Fixed, so the role's policy can name the state machine and its executions without a cycle. */
  readonly stateMachineName: string;
  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;
  readonly functions: Readonly<Record<SendTaskName, DicomwebFunction>>;
  readonly destinationsKey: kms.Key;
  readonly destinations: secretsmanager.Secret;
  /** What the Send API function needs beside BUCKET_NAME and TABLE_NAME. */
  readonly apiEnvironment: Omit<FunctionEnvironment, 'BUCKET_NAME' | 'TABLE_NAME'>;
  readonly batchSize: number;
  readonly maxConcurrency: number;

  private readonly storage: ArchiveStorage;

  constructor(scope: Construct, id: string, props: SendWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { storage, logs } = props;
    this.storage = storage;
    this.batchSize = props.batchSize ?? 10;
    this.maxConcurrency = props.maxConcurrency ?? 4;
    this.stateMachineName = `${stack.stackName}-Send`;
    const removalPolicy = (props.retainData ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.destinationsKey = new kms.Key(this, 'DestinationsKey', {
      description: 'DICOMweb archive: SEND-RS destination registry',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.destinations = new secretsmanager.Secret(this, 'Destinations', {
      description: 'SEND-RS destination registry {"destinations":[...]} (lambdas/send/destinations.ts)',
      encryptionKey: this.destinationsKey,
      // Only URLs and auth types from context: no credential is in the template.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ destinations: props.destinations ?? [] })),
      removalPolicy,
    });
    const operatorManaged =
      'The secret holds credentials issued by third-party DICOMweb destinations; operators rotate them ' +
      'with the destination, which no rotation Lambda here can do.';
    Validations.of(this.destinations).acknowledge(
      { id: 'AwsSolutions-SMG4', reason: operatorManaged },
      { id: 'HIPAA.Security-SecretsManagerRotationEnabled', reason: operatorManaged },
    );

    const sendEnvironment = {
      ...props.environment,
      DESTINATIONS_SECRET_ARN: this.destinations.secretArn,
      SEND_BATCH_SIZE: String(this.batchSize),
      SEND_MAX_CONCURRENCY: String(this.maxConcurrency),
    };
    this.functions = this.createTaskFunctions(props, {
      ...sendEnvironment,
      BUCKET_NAME: storage.bucket.bucketName,
      TABLE_NAME: storage.table.tableName,
    });

    const definition = buildSendStateMachineDefinition({
      mode: 'distributed',
      resolveArn: this.functions.resolve.functionArn,
      deliverArn: this.functions.deliver.functionArn,
      finalizeArn: this.functions.finalize.functionArn,
      failArn: this.functions.fail.functionArn,
      manifestBucket: storage.bucket.bucketName,
      batchSize: this.batchSize,
      maxConcurrency: this.maxConcurrency,
      partition: stack.partition,
    });

    const logGroup = logs.logGroup(this, 'StateMachineLogs');
    this.role = new iam.Role(this, 'StateMachineRole', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
    });
    this.policy = this.createStateMachinePolicy();
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      // All permissions are in this.policy; the L2 construct must not add an inline policy.
      role: this.role.withoutPolicyUpdates(),
      // Execution data carries UIDs and destinations: errors only, without data.
      logs: { destination: logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: true,
    });
    // Step Functions checks the log delivery permissions when it creates the state machine.
    this.stateMachine.node.addDependency(this.policy);
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Logging is at level ERROR without execution data, so no patient identifier reaches the logs and a ' +
        'Distributed Map of thousands of child executions does not flood them; the execution history ' +
        'keeps every event for 90 days.',
    });

    this.apiEnvironment = { ...sendEnvironment, SEND_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn };
  }

  /** StartExecution of Send requests and DescribeExecution for Check Send Result. */
  grantStartSend(policy: iam.ManagedPolicy): void {
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [this.executionsArn(':*')] }),
    );
    this.acknowledgeStates(policy, ':*', 'The function describes the executions of this one state machine, named by transaction.');
  }

  /** GetSecretValue of the destination registry, and the key that decrypts it. */
  grantReadDestinations(policy: iam.ManagedPolicy): void {
    policy.addStatements(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.destinations.secretArn] }),
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.destinationsKey.keyArn] }),
    );
  }

  private createTaskFunctions(props: SendWorkflowProps, environment: FunctionEnvironment): Record<SendTaskName, DicomwebFunction> {
    const functions = {} as Record<SendTaskName, DicomwebFunction>;
    for (const name of Object.keys(sendTaskFunctions) as SendTaskName[]) {
      const spec = sendTaskFunctions[name];
      functions[name] = new DicomwebFunction(this, pascal(name), {
        entry: spec.entry,
        handler: spec.handler,
        memorySize: spec.memorySize,
        timeout: Duration.seconds(spec.timeoutSeconds),
        environment,
        logs: props.logs,
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
        network: name === 'deliver' ? props.deliverNetwork : undefined,
        projectRoot: props.projectRoot,
      });
    }
    const { storage } = props;
    const { resolve, deliver, finalize, fail } = functions;
    // Resolve: searches the index, writes the manifest (reads it back when run again), records the
    // number of matches.
    storage.grantIndexRead(resolve.policy);
    storage.grantIndexWrite(resolve.policy);
    storage.grantObjectWrite(resolve.policy, SEND_REQUEST_OBJECTS);
    storage.grantObjectRead(resolve.policy, SEND_REQUEST_OBJECTS);
    // Deliver: reads the instances of its batch, sends them, writes the batch's failed and warning
    // UIDs (send-requests/{transactionUID}/outcomes/, lambdas/send/outcomes.ts), counts the batch once.
    storage.grantIndexRead(deliver.policy);
    storage.grantIndexWrite(deliver.policy);
    storage.grantObjectRead(deliver.policy, INSTANCE_OBJECTS);
    storage.grantObjectWrite(deliver.policy, SEND_REQUEST_OBJECTS);
    this.grantReadDestinations(deliver.policy);
    // Finalize and MarkFailed: end the send request from its counters (lambdas/send/finish.ts); no
    // object: the Failed SOP Instance UID List is Check Send Result's to assemble.
    for (const fn of [finalize, fail]) {
      storage.grantIndexRead(fn.policy);
      storage.grantIndexWrite(fn.policy);
    }
    return functions;
  }

  /** The state machine role's only permissions (Step Functions guide: IAM policies for Distributed Map states). */
  private createStateMachinePolicy(): iam.ManagedPolicy {
    const { bucket, key } = this.storage;
    const policy = new iam.ManagedPolicy(this, 'StateMachinePolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: Object.values(this.functions).map((fn) => fn.functionArn),
        }),
        // ItemReader reads send-requests/{transactionUID}/manifest.jsonl.
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(SEND_REQUEST_OBJECTS)] }),
        new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }),
        // A Distributed Map runs its batches as child executions of this state machine.
        new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn()] }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [this.executionsArn('/*')],
        }),
        // CloudWatch Logs vended delivery and X-Ray do not support resource-level permissions.
        new iam.PolicyStatement({
          actions: [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(policy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudWatch Logs log delivery (state machine logging) and X-Ray tracing actions do not support ' + 'resource-level permissions.',
      },
      {
        id: this.storage.objectsFinding(SEND_REQUEST_OBJECTS),
        reason: 'The Distributed Map reads the manifest send-requests/{transactionUID}/manifest.jsonl of each request.',
      },
    );
    this.acknowledgeStates(policy, '/*', 'The Distributed Map starts, describes and stops its own child executions.');
    return policy;
  }

  private stateMachineArn(): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Executions of this state machine: `:*` its own, `/*` the child executions of its Map Runs. */
  private executionsArn(suffix: ':*' | '/*'): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachineName}${suffix}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Acknowledges AwsSolutions-IAM5 for the executions ARN, named as cdk-nag names it (Ref -> <Name>). */
  private acknowledgeStates(policy: iam.ManagedPolicy, suffix: ':*' | '/*', reason: string): void {
    const arn: unknown = Stack.of(this).resolve(this.executionsArn(suffix));
    const parts: unknown[] = typeof arn === 'string' ? [arn] : (arn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const finding = parts.map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join('');
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
  }
}
