/** CDK: the NPI Service (PS3.18 12) routes reach the API from the same route table, with least privilege. */
import { describe, expect, it } from 'vitest';
import { NPI_CATEGORIES } from '../../lambdas/dicomweb/npi-categories';
import { logicalId, methodsOf, policyActions, policyStatements, synth } from './helpers';

describe('ArchiveStack NPI Service', () => {
  const { stack, template } = synth();
  const methods = methodsOf(template);
  const fn = (group: 'npi' | 'send') => `"${logicalId(stack, stack.dicomweb.functions[group])}","Arn"`;

  it('exposes Store, Search, Retrieve, Send and Check Send Result for every category', () => {
    for (const { name } of NPI_CATEGORIES) {
      const expected: [string, 'npi' | 'send', string][] = [
        [`POST /${name}`, 'npi', 'StoreInstances'],
        [`GET /${name}`, 'npi', 'SearchForInstances'],
        [`GET /${name}/{uid}`, 'npi', 'RetrieveInstance'],
        [`POST /${name}/send-requests/{transactionUID}`, 'send', 'Send'],
        [`GET /${name}/send-requests/{transactionUID}`, 'send', 'CheckSendResult'],
      ];
      for (const [key, group, operation] of expected) {
        const method = methods.get(key);
        expect(method, key).toBeDefined();
        expect(method!.OperationName).toBe(operation);
        expect(JSON.stringify(method!.Integration.Uri)).toContain(fn(group));
      }
    }
  });

  it('lets the NPI function read and write objects and index items, delete only its own under npi/, never scan', () => {
    const policy = logicalId(stack, stack.dicomweb.functions.npi.policy);
    const actions = policyActions(template, policy);
    expect(actions).toEqual(
      expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:GetItem']),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('s3:DeleteObjectVersion');
    // The objects of a store that lost its race for one SOP Instance UID (lambdas/storage/keys.ts objectVersion).
    const deletes = policyStatements(template, policy)
      .filter((st) => [st.Action].flat().includes('s3:DeleteObject'))
      .map((st) => JSON.stringify(st.Resource));
    expect(deletes).toEqual([expect.stringContaining('/npi/*')]);
  });
});
