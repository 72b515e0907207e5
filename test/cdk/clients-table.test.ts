/**
 * CDK: the API key clients' table (lib/constructs/clients-table.ts) as the embedded runtime creates it,
 * with its own key; every API function reads a client or share link (GetItem) to verify a credential
 * and counts a share link's uses (UpdateItem of share items only), only the admin function changes or
 * lists them, and the admin function reads the archive's index (a link is for a stored study) and
 * nothing else of the archive's data.
 */
import { describe, expect, it } from 'vitest';
import { functionGroups, type FunctionGroup } from '../../lambdas/http/routes';
import { createClientsTableInput } from '../../lib/local/emulators';
import { logicalId, policyStatements, synth, type Resources } from './helpers';

const groups = Object.keys(functionGroups) as FunctionGroup[];

describe('API key clients table', () => {
  const { stack, template } = synth();
  const resources = template.toJSON().Resources as Resources;
  const tableId = logicalId(stack, stack.clients.table);
  const keyId = logicalId(stack, stack.clients.key);
  const table = resources[tableId]!;

  it('is keyed as the embedded runtime creates it, on demand, with point-in-time recovery and its own rotating key', () => {
    const local = createClientsTableInput('t');
    expect(table.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table.Properties.AttributeDefinitions).toEqual(local.AttributeDefinitions);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(keyId).not.toBe(logicalId(stack, stack.storage.key));
    expect(resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
  });

  it('is retained with the archive data by default, destroyed with retainData=false', () => {
    expect(table.DeletionPolicy).toBe('Retain');
    expect(resources[keyId]!.DeletionPolicy).toBe('Retain');
    const disposable = synth({ retainData: 'false' });
    const disposableResources = disposable.template.toJSON().Resources as Resources;
    expect(disposableResources[logicalId(disposable.stack, disposable.stack.clients.table)]!.DeletionPolicy).toBe('Delete');
  });

  it('is named to every API function by CLIENTS_TABLE_NAME and output by the stack', () => {
    for (const group of groups) {
      const fn = resources[logicalId(stack, stack.dicomweb.functions[group])]!;
      expect(fn.Properties.Environment.Variables.CLIENTS_TABLE_NAME, group).toEqual({ Ref: tableId });
    }
    expect(template.toJSON().Outputs.ClientsTableName.Value).toEqual({ Ref: tableId });
  });

  /** The actions a function's policy allows on the clients table and on its key. */
  const onClients = (group: FunctionGroup) => {
    const statements = policyStatements(template, logicalId(stack, stack.dicomweb.functions[group].policy));
    const actionsOn = (id: string) =>
      statements.filter((st) => JSON.stringify(st.Resource).includes(`"${id}"`)).flatMap((st) => [st.Action].flat());
    return { table: actionsOn(tableId).sort(), key: actionsOn(keyId).sort() };
  };

  it("lets every API function read a client or link (GetItem), update share links' items only, and decrypt, nothing more", () => {
    for (const group of groups.filter((g) => g !== 'admin')) {
      expect(onClients(group), group).toEqual({
        table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        key: ['kms:Decrypt', 'kms:DescribeKey'],
      });
      const update = policyStatements(template, logicalId(stack, stack.dicomweb.functions[group].policy)).find(
        (st) => JSON.stringify(st.Resource).includes(`"${tableId}"`) && st.Action === 'dynamodb:UpdateItem',
      );
      expect(update?.Condition, group).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['share#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      });
    }
  });

  it("lets the admin function add, list and revoke clients and links, read the archive's index, and reach nothing else", () => {
    expect(onClients('admin')).toEqual({
      table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
      key: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
    });
    const statements = JSON.stringify(policyStatements(template, logicalId(stack, stack.dicomweb.functions.admin.policy)));
    expect(statements).not.toContain(logicalId(stack, stack.storage.bucket));
    expect(statements).not.toMatch(
      /"s3:|dynamodb:(PutItem|DeleteItem|BatchWriteItem)","Resource":[^}]*${logicalId(stack, stack.storage.table)}/,
    );
    const onArchive = policyStatements(template, logicalId(stack, stack.dicomweb.functions.admin.policy))
      .filter((st) => JSON.stringify(st.Resource).includes(`"${logicalId(stack, stack.storage.table)}"`))
      .flatMap((st) => [st.Action].flat());
    expect(onArchive.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query']);
  });

  it('serves the admin routes from a small buffered function', () => {
    expect(functionGroups.admin).toMatchObject({ entry: 'lambdas/handlers/admin.ts', streaming: false });
    expect(resources[logicalId(stack, stack.dicomweb.functions.admin)]!.Properties.MemorySize).toBe(256);
  });
});
