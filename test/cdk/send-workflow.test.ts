import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArchiveContextError, type ArchiveStack } from '../../lib/archive-stack';
import { routes } from '../../lambdas/http/routes';
import { LAMBDA_SERVICE_ERRORS, SendState, sendTaskFunctions, type SendTaskName } from '../../lib/send-workflow';
import { logicalId, methodsOf, policyActions, policyStatements, synth, type PolicyStatement, type Resources } from './helpers';

const tasks = Object.keys(sendTaskFunctions) as SendTaskName[];

/**
 * CloudFormation intrinsics as readable strings, so a definition or an ARN can be compared:
 * GetAtt -> `<Id.Arn>`, Ref -> `<Id>`, Join -> the joined parts (as cdk-nag names them).
 */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flatten).join(v['Fn::Join'][0]);
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}

function resourcesOf(statement: PolicyStatement): string[] {
  return (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(flatten);
}

function actionsOf(statement: PolicyStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Resources of every statement allowing the action. */
function resourcesFor(statements: PolicyStatement[], action: string): string[] {
  return statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
}

function stateMachineOf(stack: ArchiveStack, template: Template): Record<string, any> {
  return (template.toJSON().Resources as Resources)[logicalId(stack, stack.send.stateMachine)]!.Properties;
}

function definitionOf(stack: ArchiveStack, template: Template): { States: Record<string, any> } {
  return JSON.parse(flatten(stateMachineOf(stack, template).DefinitionString));
}

function functionOf(stack: ArchiveStack, template: Template, id: string): Record<string, any> {
  return (template.toJSON().Resources as Resources)[id]!.Properties;
}

describe('SendWorkflow state machine', () => {
  const { stack, template } = synth();
  const definition = definitionOf(stack, template);
  const fnArn = (task: SendTaskName) => `<${logicalId(stack, stack.send.functions[task])}.Arn>`;
  const bucketArn = `<${logicalId(stack, stack.storage.bucket)}.Arn>`;

  it('is a STANDARD state machine with X-Ray tracing, logging errors without execution data', () => {
    const sm = stateMachineOf(stack, template);
    expect(sm.StateMachineType).toBe('STANDARD');
    expect(sm.StateMachineName).toBe('Test-Send');
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    const logGroupId = sm.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(functionOf(stack, template, logGroupId).KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.logs.key), 'Arn'] });
  });

  it('runs the four task functions of sendTaskFunctions, with their handler, memory and timeout', () => {
    for (const task of tasks) {
      const fn = functionOf(stack, template, logicalId(stack, stack.send.functions[task]));
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: `index.${sendTaskFunctions[task].handler}`,
        MemorySize: sendTaskFunctions[task].memorySize,
        Timeout: sendTaskFunctions[task].timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
      });
      expect(fn.Environment.Variables).toMatchObject({
        BUCKET_NAME: { Ref: logicalId(stack, stack.storage.bucket) },
        TABLE_NAME: { Ref: logicalId(stack, stack.storage.table) },
        DESTINATIONS_SECRET_ARN: { Ref: logicalId(stack, stack.send.destinations) },
      });
    }
    const { States } = definition;
    expect(States[SendState.Resolve].Resource).toBe(fnArn('resolve'));
    expect(States[SendState.DeliverBatches].ItemProcessor.States[SendState.Deliver].Resource).toBe(fnArn('deliver'));
    expect(States[SendState.Finalize].Resource).toBe(fnArn('finalize'));
    expect(States[SendState.MarkFailed].Resource).toBe(fnArn('fail'));
  });

  it('delivers through a Distributed Map reading the JSONL manifest from the archive bucket, in batches', () => {
    const map = definition.States[SendState.DeliverBatches];
    expect(map.Type).toBe('Map');
    expect(map.ItemReader).toEqual({
      Resource: 'arn:<AWS::Partition>:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { Bucket: `<${logicalId(stack, stack.storage.bucket)}>`, 'Key.$': '$.resolved.manifestKey' },
    });
    expect(map.ItemBatcher.MaxItemsPerBatch).toBe(10);
    expect(map.MaxConcurrency).toBe(4);
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
  });

  it('takes batch size, concurrency and the bytes a Deliver holds from context', () => {
    const custom = synth({ sendBatchSize: 25, sendMaxConcurrency: '8', sendMaxBatchBytes: '33554432' });
    const map = definitionOf(custom.stack, custom.template).States[SendState.DeliverBatches];
    expect(map.ItemBatcher.MaxItemsPerBatch).toBe(25);
    expect(map.MaxConcurrency).toBe(8);
    const deliver = functionOf(custom.stack, custom.template, logicalId(custom.stack, custom.stack.send.functions.deliver));
    expect(deliver.Environment.Variables.SEND_MAX_BATCH_BYTES).toBe('33554432');
    expect(
      functionOf(stack, template, logicalId(stack, stack.send.functions.deliver)).Environment.Variables.SEND_MAX_BATCH_BYTES,
    ).toBeUndefined(); // the default of lambdas/config.ts
    expect(() => synth({ sendBatchSize: 0 })).toThrow(ArchiveContextError);
    expect(() => synth({ sendMaxConcurrency: 'many' })).toThrow(ArchiveContextError);
    expect(() => synth({ sendMaxBatchBytes: '64MB' })).toThrow(ArchiveContextError);
  });

  it('retries Lambda service errors on every Task and sends any failure to MarkFailed', () => {
    const { States } = definition;
    const taskStates = [
      States[SendState.Resolve],
      States[SendState.DeliverBatches].ItemProcessor.States[SendState.Deliver],
      States[SendState.Finalize],
      States[SendState.MarkFailed],
    ];
    for (const state of taskStates) {
      expect(state.Retry).toEqual(
        expect.arrayContaining([expect.objectContaining({ ErrorEquals: expect.arrayContaining([...LAMBDA_SERVICE_ERRORS]) })]),
      );
    }
    for (const name of [SendState.Resolve, SendState.DeliverBatches, SendState.Finalize]) {
      expect(States[name].Catch, name).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: SendState.MarkFailed })]);
    }
  });

  it('gives its role one managed policy: the four functions, the manifests, its own child executions', () => {
    const roleId = logicalId(stack, stack.send.role);
    expect(stateMachineOf(stack, template).RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    template.resourceCountIs('AWS::IAM::Policy', 0);
    const policyId = logicalId(stack, stack.send.policy);
    expect(functionOf(stack, template, policyId).Roles).toEqual([{ Ref: roleId }]);
    // The state machine is created after its permissions (log delivery is checked at creation).
    expect((template.toJSON().Resources as Resources)[logicalId(stack, stack.send.stateMachine)]).toMatchObject({
      DependsOn: expect.arrayContaining([policyId]),
    });

    const statements = policyStatements(template, policyId);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(policyActions(template, policyId).filter((a) => a.includes('*'))).toEqual([]);
    expect(new Set(resourcesFor(statements, 'lambda:InvokeFunction'))).toEqual(new Set(tasks.map(fnArn)));
    expect(resourcesFor(statements, 'lambda:InvokeFunction')).toHaveLength(4);
    expect(resourcesFor(statements, 's3:GetObject')).toEqual([`${bucketArn}/send-requests/*`]);
    expect(resourcesFor(statements, 's3:ListBucket')).toEqual([]);
    expect(resourcesFor(statements, 'kms:Decrypt')).toEqual([`<${logicalId(stack, stack.storage.key)}.Arn>`]);
    const arnPrefix = 'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>';
    expect(resourcesFor(statements, 'states:StartExecution')).toEqual([`${arnPrefix}:stateMachine:Test-Send`]);
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      expect(resourcesFor(statements, action)).toEqual([`${arnPrefix}:execution:Test-Send/*`]);
    }
    // Only log delivery and X-Ray, which have no resource-level permissions, get '*'.
    const anyResource = statements.filter((s) => resourcesOf(s).includes('*')).flatMap(actionsOf);
    expect(anyResource.every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
  });
});

describe('SendWorkflow task function grants', () => {
  const { stack, template } = synth();
  const bucketArn = `<${logicalId(stack, stack.storage.bucket)}.Arn>`;
  const statementsOf = (task: SendTaskName) => policyStatements(template, logicalId(stack, stack.send.functions[task].policy));
  const actionsOfTask = (task: SendTaskName) => statementsOf(task).flatMap(actionsOf);

  it('lets Resolve write and read back manifests only, and search and update the index', () => {
    expect(resourcesFor(statementsOf('resolve'), 's3:PutObject')).toEqual([`${bucketArn}/send-requests/*`]);
    expect(resourcesFor(statementsOf('resolve'), 's3:GetObject')).toEqual([`${bucketArn}/send-requests/*`]);
    expect(actionsOfTask('resolve')).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem']));
    expect(actionsOfTask('resolve')).not.toContain('secretsmanager:GetSecretValue');
  });

  it('lets Deliver read instances (studies and Non-Patient Instances) and the destination registry, write batch outcomes and count them', () => {
    const statements = statementsOf('deliver');
    expect(resourcesFor(statements, 's3:GetObject')).toEqual([`${bucketArn}/studies/*`, `${bucketArn}/npi/*`]);
    // send-requests/{transactionUID}/outcomes/{batch}.json (lambdas/storage/keys.ts sendOutcomeKey).
    expect(resourcesFor(statements, 's3:PutObject')).toEqual([`${bucketArn}/send-requests/*`]);
    expect(actionsOfTask('deliver')).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([`<${logicalId(stack, stack.send.destinations)}>`]);
    expect(resourcesFor(statements, 'kms:Decrypt')).toContain(`<${logicalId(stack, stack.send.destinationsKey)}.Arn>`);
  });

  it('lets Finalize and MarkFailed read and update the send request, nothing more', () => {
    for (const task of ['finalize', 'fail'] as const) {
      expect(actionsOfTask(task).filter((a) => a.startsWith('s3:'))).toEqual([]);
      expect(actionsOfTask(task)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
      expect(actionsOfTask(task)).not.toContain('s3:PutObject');
      expect(actionsOfTask(task)).not.toContain('secretsmanager:GetSecretValue');
    }
  });

  it('grants no task any Step Functions, Scan or delete action', () => {
    for (const task of tasks) {
      const actions = actionsOfTask(task);
      expect(
        actions.filter((a) => a.startsWith('states:')),
        task,
      ).toEqual([]);
      expect(actions, task).not.toContain('dynamodb:Scan');
      expect(actions, task).not.toContain('s3:DeleteObject');
    }
  });
});

describe('SendWorkflow destination registry', () => {
  it('creates a KMS-encrypted secret holding the context destinations, without credentials', () => {
    const destinations = [{ url: 'https://peer.example.org/dicom-web', auth: { type: 'none' } }];
    const { stack, template } = synth({ destinations });
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.send.destinationsKey), 'Arn'] });
    expect(JSON.parse(secrets[0]!.Properties.SecretString)).toEqual({ destinations });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'DICOMweb archive: SEND-RS destination registry',
      EnableKeyRotation: true,
    });
  });

  it('starts empty, and reads destinations given as JSON text (-c destinations=...)', () => {
    const empty = synth().template.findResources('AWS::SecretsManager::Secret');
    expect(JSON.parse(Object.values(empty)[0]!.Properties.SecretString)).toEqual({ destinations: [] });
    const text = '[{"url":"http://10.0.0.5:8080/dicomweb","aeTitle":"PACS","host":"10.0.0.5","port":104}]';
    const fromText = synth({ destinations: text }).template.findResources('AWS::SecretsManager::Secret');
    expect(JSON.parse(Object.values(fromText)[0]!.Properties.SecretString)).toEqual({ destinations: JSON.parse(text) });
  });

  it('refuses credentials, non-HTTP URLs and malformed destinations in context', () => {
    const bearer = [{ url: 'https://peer.example.org/dicom-web', auth: { type: 'bearer', token: 'secret-token' } }];
    expect(() => synth({ destinations: bearer })).toThrow(ArchiveContextError);
    expect(() => synth({ destinations: bearer })).not.toThrow(/secret-token/);
    expect(() => synth({ destinations: [{ url: 'ftp://peer.example.org/' }] })).toThrow(ArchiveContextError);
    expect(() => synth({ destinations: '{"url":"https://a.org"}' })).toThrow(ArchiveContextError);
    expect(() => synth({ destinations: '[not json' })).toThrow(ArchiveContextError);
  });
});

describe('Send API function', () => {
  const { stack, template } = synth({ sendWaitMs: 1500, sendResultTtlSeconds: '3600' });
  const send = stack.dicomweb.functions.send;
  const sendId = logicalId(stack, send);
  const statements = policyStatements(template, logicalId(stack, send.policy));

  it('serves the Send and Check Send Result routes of the six Studies resources and the six NPI categories', () => {
    const sendRoutes = routes.filter((r) => r.group === 'send');
    expect(sendRoutes).toHaveLength(24);
    const methods = methodsOf(template);
    for (const route of sendRoutes) {
      const method = methods.get(`${route.method} ${route.path}`);
      expect(method, `${route.method} ${route.path}`).toBeDefined();
      expect(route.path).toMatch(/\/send-requests\/\{transactionUID\}$/);
      expect(method!.OperationName).toBe(route.method === 'POST' ? 'Send' : 'CheckSendResult');
      expect(JSON.stringify(method!.Integration.Uri)).toContain(`"${sendId}","Arn"`);
    }
  });

  it('knows the state machine, the destination registry and the Send settings', () => {
    expect(functionOf(stack, template, sendId).Environment.Variables).toMatchObject({
      SEND_STATE_MACHINE_ARN: { Ref: logicalId(stack, stack.send.stateMachine) },
      DESTINATIONS_SECRET_ARN: { Ref: logicalId(stack, stack.send.destinations) },
      SEND_BATCH_SIZE: '10',
      SEND_MAX_CONCURRENCY: '4',
      SEND_WAIT_MS: '1500',
      SEND_RESULT_TTL_SECONDS: '3600',
    });
  });

  it('may start and describe executions of the Send state machine only, and read the registry', () => {
    const arnPrefix = 'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>';
    expect(resourcesFor(statements, 'states:StartExecution')).toEqual([`<${logicalId(stack, stack.send.stateMachine)}>`]);
    expect(resourcesFor(statements, 'states:DescribeExecution')).toEqual([`${arnPrefix}:execution:Test-Send:*`]);
    expect(
      statements
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('states:'))
        .sort(),
    ).toEqual(['states:DescribeExecution', 'states:StartExecution']);
    expect(resourcesFor(statements, 'secretsmanager:GetSecretValue')).toEqual([`<${logicalId(stack, stack.send.destinations)}>`]);
    expect(statements.flatMap(actionsOf)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
    // The batch outcomes a final response lists (send-requests/{transactionUID}/outcomes/), read only.
    expect(resourcesFor(statements, 's3:GetObject')).toEqual([`<${logicalId(stack, stack.storage.bucket)}.Arn>/send-requests/*`]);
    expect(
      statements
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('s3:'))
        .sort(),
    ).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  it('is the only API function that may start a Send or read the registry', () => {
    for (const [group, fn] of Object.entries(stack.dicomweb.functions)) {
      if (group === 'send') continue;
      const actions = policyActions(template, logicalId(stack, fn.policy));
      expect(
        actions.filter((a) => a.startsWith('states:') || a.startsWith('secretsmanager:')),
        group,
      ).toEqual([]);
      expect(functionOf(stack, template, logicalId(stack, fn)).Environment.Variables.SEND_STATE_MACHINE_ARN, group).toBeUndefined();
    }
  });
});

describe('SendWorkflow: Deliver in a VPC (contexts deliverVpcId, deliverSubnetIds)', () => {
  const VPC = 'vpc-0123456789abcdef0';
  const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];

  it('runs Deliver alone in the given subnets, with a security group of TCP egress only and the ENI permissions', () => {
    const { stack, template } = synth({ deliverVpcId: VPC, deliverSubnetIds: SUBNETS.join(',') });
    const resources = template.toJSON().Resources as Resources;
    const deliver = functionOf(stack, template, logicalId(stack, stack.send.functions.deliver));
    const groupId = deliver.VpcConfig.SecurityGroupIds[0]['Fn::GetAtt'][0] as string;
    expect(deliver.VpcConfig).toEqual({ SubnetIds: SUBNETS, SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }] });
    expect(resources[groupId]!.Properties.VpcId).toBe(VPC);
    expect(resources[groupId]!.Properties.SecurityGroupIngress).toBeUndefined();
    expect(resources[groupId]!.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 0, ToPort: 65535 }),
    ]);
    for (const task of tasks.filter((t) => t !== 'deliver')) {
      expect(functionOf(stack, template, logicalId(stack, stack.send.functions[task])).VpcConfig, task).toBeUndefined();
    }
    const actions = policyActions(template, logicalId(stack, stack.send.functions.deliver.policy));
    expect(actions).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']));
    expect(policyActions(template, logicalId(stack, stack.send.functions.resolve.policy))).not.toContain('ec2:CreateNetworkInterface');
  });

  it('leaves every function outside a VPC by default', () => {
    const { template } = synth();
    for (const r of Object.values(template.toJSON().Resources as Resources)) {
      if (r.Type === 'AWS::Lambda::Function') expect(r.Properties.VpcConfig).toBeUndefined();
    }
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it.each([
    [{ deliverVpcId: VPC }, /deliverSubnetIds/],
    [{ deliverSubnetIds: SUBNETS[0] }, /deliverVpcId/],
    [{ deliverVpcId: 'my-vpc', deliverSubnetIds: SUBNETS[0] }, /deliverVpcId/],
    [{ deliverVpcId: VPC, deliverSubnetIds: 'subnet-1,sg-0123456789abcdef0' }, /deliverSubnetIds/],
  ])('refuses %j', (context, message) => {
    expect(() => synth(context)).toThrow(ArchiveContextError);
    expect(() => synth(context)).toThrow(message);
  });
});
