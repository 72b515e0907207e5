/**
 * The archive's stack synthesized as the IAM harness reads it: each caller of the embedded runtime
 * (lib/local/call-attribution.ts) with the role it has in AWS, and the settings that make the embedded
 * archive name the deployed ARNs (state machine, destination registry secret).
 */
import type { CfnResource } from 'aws-cdk-lib';
import type { ArchiveStack } from '../../../lib/archive-stack';
import { Caller } from '../../../lib/local/call-attribution';
import { LOCAL_BUCKET, LOCAL_CLIENTS_TABLE, LOCAL_TABLE } from '../../../lib/local/archive';
import { localTaskArn } from '../../../lib/local/local-send-workflow';
import type { FunctionGroup } from '../../../lambdas/http/routes';
import type { SendTaskName } from '../../../lib/send-workflow';
import { synth } from '../../cdk/helpers';
import { accountOf, type Account } from './account';

/**
 * The Lambda authorizer of auth=oidc (lib/constructs/auth.ts): a role of the stack that no embedded
 * caller has (the embedded functions verify credentials themselves), evaluated on the calls it makes.
 */
export const AUTHORIZER_CALLER = 'authorizer';

export interface ArchiveAccount {
  readonly account: Account;
  /** Environment for startArchive, as the template gives it to the functions. */
  readonly env: Readonly<Record<string, string>>;
}

export function archiveAccount(context: Record<string, unknown> = {}): ArchiveAccount {
  const { stack, template } = synth(context);
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> };
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnResource);
  const roleOf = (resourceId: string, property: string): string => {
    const ref = json.Resources[resourceId]?.Properties?.[property] as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const roleId = ref?.['Fn::GetAtt']?.[0];
    if (!roleId) throw new Error(`IAM harness: ${resourceId}.${property} names no role of the template`);
    return roleId;
  };

  const callerRoles = new Map<string, string>();
  for (const [group, fn] of Object.entries(stack.dicomweb.functions) as [
    FunctionGroup,
    ArchiveStack['dicomweb']['functions'][FunctionGroup],
  ][]) {
    callerRoles.set(group, roleOf(id(fn), 'Role'));
  }
  const localNames = new Map<string, string>([
    [id(stack.storage.bucket), LOCAL_BUCKET],
    [id(stack.storage.table), LOCAL_TABLE],
    [id(stack.clients.table), LOCAL_CLIENTS_TABLE],
  ]);
  for (const [task, fn] of Object.entries(stack.send.functions) as [SendTaskName, ArchiveStack['send']['functions'][SendTaskName]][]) {
    callerRoles.set(Caller.task(task), roleOf(id(fn), 'Role'));
    localNames.set(id(fn), localTaskArn(task).split(':function:')[1]!);
  }
  const authorizer = stack.dicomweb.auth.authorizerFunction;
  if (authorizer) callerRoles.set(AUTHORIZER_CALLER, roleOf(id(authorizer), 'Role'));
  callerRoles.set(Caller.stateMachine, roleOf(id(stack.send.stateMachine), 'RoleArn'));
  if (stack.dimseGateway) callerRoles.set(Caller.dimse, roleOf(id(stack.dimseGateway.service.taskDefinition), 'TaskRoleArn'));

  const account = accountOf(stack, json, callerRoles, localNames);
  const env = {
    SEND_STATE_MACHINE_ARN: account.resolve({ Ref: id(stack.send.stateMachine) }) as string,
    DESTINATIONS_SECRET_ARN: account.resolve({ Ref: id(stack.send.destinations) }) as string,
  };
  return { account, env };
}
