import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArchiveContextError } from '../../lib/archive-stack';
import { BINARY_MEDIA_TYPES, UnauthenticatedApiError } from '../../lib/constructs/api';
import { functionGroups, integrationTimeoutSeconds, routes, type FunctionGroup } from '../../lambdas/http/routes';
import { sendTaskFunctions } from '../../lib/send-workflow';
import { GLOBAL_SECONDARY_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from '../../lambdas/storage/table-schema';
import { logicalId, methodsOf, policyActions, policyStatements, synth, type Resources } from './helpers';

/** The attributes a name term search reads from ByLevel (lambdas/storage/name-terms.ts). */
const BY_LEVEL_PROJECTION = {
  ProjectionType: 'INCLUDE',
  NonKeyAttributes: ['Level', 'StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'StudyDate'],
};

describe('ArchiveStack storage', () => {
  const { stack, template } = synth();
  const keyId = logicalId(stack, stack.storage.key);

  it('encrypts the object bucket with the customer managed key, which rotates', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stack, stack.storage.accessLogsBucket) } },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
    });
  });

  it('blocks public access to both buckets and denies requests without TLS', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(2);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    for (const bucket of [stack.storage.bucket, stack.storage.accessLogsBucket]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(stack, bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('creates the table exactly as table-schema.ts describes it', () => {
    const gsiAttributes = GLOBAL_SECONDARY_INDEXES.flatMap((g) => [g.partitionKey, g.sortKey]);
    // Beside it, only the API key clients' table (test/cdk/clients-table.test.ts).
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table')).sort()).toEqual(
      [logicalId(stack, stack.storage.table), logicalId(stack, stack.clients.table)].sort(),
    );
    const props = (template.toJSON().Resources as Resources)[logicalId(stack, stack.storage.table)]!.Properties;
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(props.KeySchema).toEqual([
      { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
    ]);
    expect(new Set(props.AttributeDefinitions.map((a: { AttributeName: string }) => a.AttributeName))).toEqual(
      new Set([TABLE_PARTITION_KEY, TABLE_SORT_KEY, ...gsiAttributes]),
    );
    expect(props.GlobalSecondaryIndexes).toEqual(
      GLOBAL_SECONDARY_INDEXES.map((g) => ({
        IndexName: g.indexName,
        KeySchema: [
          { AttributeName: g.partitionKey, KeyType: 'HASH' },
          { AttributeName: g.sortKey, KeyType: 'RANGE' },
        ],
        Projection: g.indexName === 'ByLevel' ? BY_LEVEL_PROJECTION : { ProjectionType: 'KEYS_ONLY' },
      })),
    );
  });

  it("projects keys only into ByUid and ByPatient, and the name terms' attributes into ByLevel", () => {
    const props = (template.toJSON().Resources as Resources)[logicalId(stack, stack.storage.table)]!.Properties;
    const projections = Object.fromEntries(
      props.GlobalSecondaryIndexes.map((g: { IndexName: string; Projection: unknown }) => [g.IndexName, g.Projection]),
    );
    expect(projections).toEqual({
      ByUid: { ProjectionType: 'KEYS_ONLY' },
      ByLevel: BY_LEVEL_PROJECTION,
      ByPatient: { ProjectionType: 'KEYS_ONLY' },
    });
  });

  it('keeps every GSI projecting ALL with gsiProjections=all (a stack deployed before), and refuses another value', () => {
    const { stack: before, template: kept } = synth({ gsiProjections: 'all' });
    const props = (kept.toJSON().Resources as Resources)[logicalId(before, before.storage.table)]!.Properties;
    expect(props.GlobalSecondaryIndexes.map((g: { Projection: unknown }) => g.Projection)).toEqual(
      GLOBAL_SECONDARY_INDEXES.map(() => ({ ProjectionType: 'ALL' })),
    );
    expect(() => synth({ gsiProjections: 'keys' })).toThrow(ArchiveContextError);
  });

  it('retains data by default and destroys it, emptying the buckets, when retainData is false', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::KMS::Key']) {
      for (const r of Object.values(template.findResources(type))) expect(r.DeletionPolicy).toBe('Retain');
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);

    const disposable = synth({ retainData: 'false' }).template;
    for (const type of ['AWS::S3::Bucket', 'AWS::DynamoDB::Table']) {
      for (const r of Object.values(disposable.findResources(type))) expect(r.DeletionPolicy).toBe('Delete');
    }
    disposable.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });

  it('outputs the service root, bucket and table', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.BucketName.Value).toEqual({ Ref: logicalId(stack, stack.storage.bucket) });
    expect(outputs.TableName.Value).toEqual({ Ref: logicalId(stack, stack.storage.table) });
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain('/prod"');
    expect(JSON.stringify(outputs.ApiUrl.Value)).toContain(logicalId(stack, stack.dicomweb.api));
  });
});

describe('ArchiveStack functions', () => {
  const { stack, template } = synth({ indexShards: 16 });
  const groups = Object.keys(functionGroups) as FunctionGroup[];

  it('deploys one nodejs24.x function per function group, arm64 but render (x86_64), with its memory and timeout', () => {
    // Plus the Send workflow's task functions (test/cdk/send-workflow.test.ts) and the authorizer (test/cdk/auth.test.ts).
    template.resourceCountIs('AWS::Lambda::Function', groups.length + Object.keys(sendTaskFunctions).length + 1);
    for (const group of groups) {
      const fn = (template.toJSON().Resources as Resources)[logicalId(stack, stack.dicomweb.functions[group])]!;
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        // The render function's sharp binaries are linux-x64 (test/cdk/render-function.test.ts).
        Architectures: [group === 'render' ? 'x86_64' : 'arm64'],
        Handler: 'index.handler',
        MemorySize: functionGroups[group].memorySize,
        Timeout: functionGroups[group].timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
      });
      expect(fn.Properties.Environment.Variables).toMatchObject({
        BUCKET_NAME: { Ref: logicalId(stack, stack.storage.bucket) },
        TABLE_NAME: { Ref: logicalId(stack, stack.storage.table) },
        INDEX_SHARDS: '16',
      });
      // No --enable-source-maps: stacks are mapped when logged (test/cdk/bundles.test.ts), not at each cold start.
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
    }
  });

  it('gives every log group a retention and the logs key', () => {
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups.length).toBeGreaterThanOrEqual(groups.length + 1);
    for (const lg of logGroups) {
      expect(lg.Properties.RetentionInDays).toBeGreaterThan(0);
      expect(lg.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.logs.key), 'Arn'] });
    }
  });

  it('grants each group only what its transactions need, without inline policies or Scan of the archive', () => {
    template.resourceCountIs('AWS::IAM::Policy', 0);
    const actions = (group: FunctionGroup) => policyActions(template, logicalId(stack, stack.dicomweb.functions[group].policy));
    // Only the admin function scans, and only the clients table (test/cdk/clients-table.test.ts).
    for (const group of groups) if (group !== 'admin') expect(actions(group)).not.toContain('dynamodb:Scan');
    expect(actions('search').filter((a) => a.startsWith('s3:'))).toEqual([]);
    expect(actions('search')).not.toContain('dynamodb:PutItem');
    expect(actions('retrieve')).toContain('s3:GetObject');
    expect(actions('retrieve')).not.toContain('s3:PutObject');
    expect(actions('retrieve')).not.toContain('s3:DeleteObject');
    expect(actions('store')).toEqual(expect.arrayContaining(['s3:PutObject', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
    // Store deletes only the objects of a write that lost its race, under studies/ (versions keep them).
    const deletes = (group: FunctionGroup) =>
      policyStatements(template, logicalId(stack, stack.dicomweb.functions[group].policy))
        .filter((st) => [st.Action].flat().includes('s3:DeleteObject'))
        .map((st) => JSON.stringify(st.Resource));
    expect(deletes('store')).toEqual([expect.stringContaining('/studies/*')]);
    expect(deletes('npi')).toEqual([expect.stringContaining('/npi/*')]);
    for (const group of groups) expect(actions(group)).not.toContain('s3:DeleteObjectVersion');
    expect(actions('delete')).toEqual(expect.arrayContaining(['s3:DeleteObject', 'dynamodb:DeleteItem']));
    expect(actions('delete')).not.toContain('s3:PutObject');
  });

  it('lets the delete function invoke itself, and only itself, to continue a long delete', () => {
    const deleteFn = logicalId(stack, stack.dicomweb.functions.delete);
    // (The Send state machine's role invokes the task functions: a policy of its own.)
    const invokers = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes(`"Fn::GetAtt":["${deleteFn}","Arn"]`),
    );
    expect(invokers).toHaveLength(1);
    const [, policy] = invokers[0]!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [deleteFn, 'Arn'] } },
    ]);
    const roleOf = (template.toJSON().Resources as Resources)[deleteFn]!.Properties.Role;
    expect(policy.Properties.Roles).toEqual([{ Ref: roleOf['Fn::GetAtt'][0] }]);
  });
});

describe('ArchiveStack API', () => {
  const { stack, template } = synth();
  const methods = methodsOf(template);

  it('has exactly one method per route of lambdas/http/routes.ts, each proxied to its group function', () => {
    expect([...methods.keys()].sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of routes) {
      const method = methods.get(`${route.method} ${route.path}`)!;
      expect(method.OperationName).toBe(route.transaction);
      expect(method.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(method.Integration.Uri)).toContain(`"${logicalId(stack, stack.dicomweb.functions[route.group])}","Arn"`);
    }
  });

  it('streams the responses of streaming groups and buffers the others', () => {
    for (const route of routes) {
      const integration = methods.get(`${route.method} ${route.path}`)!.Integration;
      const uri = JSON.stringify(integration.Uri);
      // API Gateway's wait: the function's timeout when streamed, its 29 s default when buffered.
      expect(integration.TimeoutInMillis ?? 29_000, route.path).toBe(integrationTimeoutSeconds(functionGroups[route.group]) * 1000);
      if (functionGroups[route.group].streaming) {
        expect(integration.ResponseTransferMode, route.path).toBe('STREAM');
        expect(uri).toContain('2021-11-15/functions/');
        expect(uri).toContain('/response-streaming-invocations');
      } else {
        expect(integration.ResponseTransferMode ?? 'BUFFERED', route.path).toBe('BUFFERED');
        expect(uri).toContain('2015-03-31/functions/');
      }
    }
    expect(routes.some((r) => functionGroups[r.group].streaming)).toBe(true);
  });

  it('treats DICOM bodies as binary', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: BINARY_MEDIA_TYPES });
    expect(BINARY_MEDIA_TYPES).toEqual(expect.arrayContaining(['multipart/related', 'application/dicom', '*/*']));
  });

  it('logs access on the prod stage, without data trace, with tracing and throttling', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [
        Match.objectLike({
          LoggingLevel: 'OFF',
          DataTraceEnabled: false,
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        }),
      ],
    });
  });

  it('authorizes with the Lambda REQUEST authorizer by default (auth=oidc)', () => {
    for (const [key, method] of methods) expect(method.AuthorizationType, key).toBe('CUSTOM');
  });

  it('protects the stage with a WAF web ACL of AWS managed rules, whose logs redact query and path', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: { ManagedRuleGroupStatement: Match.objectLike({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }) },
        }),
      ]),
    });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: Match.arrayWith([{ QueryString: {} }, { UriPath: {} }]),
    });
    synth({ waf: 'false' }).template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });
});

describe('ArchiveStack authorization modes', () => {
  it("takes auth=cognito as auth=oidc with the stack's own user pool: the Lambda authorizer, never a Cognito one", () => {
    const { template } = synth({ auth: 'cognito' });
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'REQUEST' });
    for (const [key, method] of methodsOf(template)) {
      expect(method.AuthorizationType, key).toBe('CUSTOM');
      expect(method.AuthorizerId, key).toBeDefined();
    }
  });

  it('authorizes with IAM (SigV4) with auth=iam, without user pool or authorizer', () => {
    const { template } = synth({ auth: 'iam' });
    for (const [key, method] of methodsOf(template)) expect(method.AuthorizationType, key).toBe('AWS_IAM');
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
  });

  it("refuses auth=none unless allowUnauthenticated is 'true'", () => {
    expect(() => synth({ auth: 'none' })).toThrow(UnauthenticatedApiError);
    expect(() => synth({ auth: 'none', allowUnauthenticated: 'false' })).toThrow(UnauthenticatedApiError);
    const { template } = synth({ auth: 'none', allowUnauthenticated: true });
    for (const [key, method] of methodsOf(template)) expect(method.AuthorizationType, key).toBe('NONE');
  });

  it('rejects context values it does not know', () => {
    expect(() => synth({ auth: 'apikey' })).toThrow(ArchiveContextError);
    expect(() => synth({ waf: 'no' })).toThrow(ArchiveContextError);
    expect(() => synth({ reservedConcurrency: '-1' })).toThrow(ArchiveContextError);
    // Send's bounded wait must fit the send function's timeout (lambdas/config.ts SEND_WAIT_MS_MAX).
    expect(() => synth({ sendWaitMs: '20000' })).toThrow(/context sendWaitMs must be at most 10000/);
  });
});
