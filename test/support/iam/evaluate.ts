/**
 * Evaluates recorded AWS calls against the roles of the synthesized template with a real IAM policy
 * engine (@cloud-copilot/iam-simulate): identity policies of the caller's role, and the resource
 * policy of the bucket or key when there is one, over TLS in the same account.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { RecordedAwsCall } from '../../../lambdas/storage/call-recorder';
import type { Account } from './account';
import { ACCOUNT, iamRequestsOf } from './iam-actions';

export interface CheckedRequest {
  readonly caller: string;
  readonly action: string;
  readonly resource: string;
  /** For an implied KMS request: the call that implies it. */
  readonly impliedBy?: string;
  /** Condition keys of the request (IamRequest.context). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

export interface Denial extends CheckedRequest {
  readonly decision: string;
}

/** Callers whose calls are not made under a role of the stack (the operator's own credentials). */
export interface EvaluateOptions {
  readonly unchecked?: readonly string[];
}

/** The distinct IAM requests of the calls: each call's own, and the KMS use its encryption key implies. */
export function iamRequests(calls: readonly RecordedAwsCall[], account: Account, options: EvaluateOptions = {}): CheckedRequest[] {
  const out = new Map<string, CheckedRequest>();
  const add = (r: CheckedRequest) => out.set(`${r.caller} ${r.action} ${r.resource} ${JSON.stringify(r.context ?? {})}`, r);
  for (const call of calls) {
    const caller = call.caller ?? '(no function)';
    if (options.unchecked?.includes(caller)) continue;
    for (const request of iamRequestsOf(call)) {
      add({ caller, action: request.action, resource: request.resource, ...(request.context && { context: request.context }) });
      const key = request.kms && account.keys.get(request.kms.of);
      if (request.kms && key)
        add({ caller, action: request.kms.action, resource: key, impliedBy: `${request.action} ${request.resource}` });
    }
  }
  return [...out.values()];
}

function resourcePolicyArn(resource: string): string {
  // An object's bucket policy is the bucket's.
  return resource.startsWith('arn:aws:s3:::') ? `arn:aws:s3:::${resource.slice('arn:aws:s3:::'.length).split('/')[0]}` : resource;
}

/** Every request the caller's role would not be allowed; throws on a caller without a role. */
export async function denials(requests: readonly CheckedRequest[], account: Account): Promise<Denial[]> {
  const denied: Denial[] = [];
  for (const r of requests) {
    const role = account.roles.get(r.caller);
    if (!role) {
      denied.push({ ...r, decision: 'no role in the template for this caller' });
      continue;
    }
    const resourcePolicy = account.resourcePolicies.get(resourcePolicyArn(r.resource));
    const response = await runSimulation(
      {
        identityPolicies: role.policies.map((p) => ({ name: p.name, policy: p.policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy && { resourcePolicy }),
        request: {
          action: r.action,
          principal: role.roleArn,
          resource: { accountId: ACCOUNT, resource: r.resource },
          contextVariables: { ...r.context, 'aws:SecureTransport': 'true' },
        },
      } as Parameters<typeof runSimulation>[0],
      {},
    );
    if (response.resultType === 'error') {
      throw new Error(
        `IAM harness: the simulation of ${r.caller} ${r.action} ${r.resource} is invalid: ${JSON.stringify(response.errors)}`,
      );
    }
    if (response.overallResult !== 'Allowed') denied.push({ ...r, decision: response.overallResult });
  }
  return denied;
}

/** One line per denial: function, action, resource (and the call that implies a KMS request). */
export function describeDenials(denied: readonly Denial[]): string {
  return denied
    .map((d) => `${d.caller}: ${d.action} on ${d.resource} ${d.decision}${d.impliedBy ? ` (implied by ${d.impliedBy})` : ''}`)
    .join('\n');
}
