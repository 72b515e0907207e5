/**
 * The synthesized stack as an account: each caller's role with its identity policies, the resource
 * policies (bucket, keys) and the key that encrypts each bucket, table and secret, every
 * CloudFormation intrinsic resolved to the concrete ARN the embedded archive's calls name
 * (the template's bucket and table are the local ones; see `localNames`).
 */
import type { Stack } from 'aws-cdk-lib';
import { ACCOUNT } from './iam-actions';

export const REGION = 'us-east-1';

type Json = any;
export type PolicyDocument = { Version?: string; Statement: Json[] };

export interface CallerRole {
  readonly roleArn: string;
  readonly policies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
}

export interface Account {
  readonly roles: ReadonlyMap<string, CallerRole>;
  /** Resource policy by resource ARN (bucket policies by bucket ARN, key policies by key ARN). */
  readonly resourcePolicies: ReadonlyMap<string, PolicyDocument>;
  /** The customer managed key (ARN) of each bucket, table and secret ARN that has one. */
  readonly keys: ReadonlyMap<string, string>;
  /** Resolves one template value (Ref, Fn::GetAtt, Fn::Join, Fn::Sub...) to what it is in the account. */
  resolve(value: unknown): Json;
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::NoValue': '',
};

interface Resolved {
  readonly ref: string;
  readonly attrs: Record<string, string>;
}

/**
 * `template` is Template.toJSON(); `callerRoles` names, for each caller, the logical id of its role;
 * `localNames` gives some resources (logical id) the physical name the embedded archive uses.
 */
export function accountOf(
  stack: Stack,
  template: { Resources: Record<string, { Type: string; Properties?: Json }> },
  callerRoles: ReadonlyMap<string, string>,
  localNames: ReadonlyMap<string, string>,
): Account {
  const resources = template.Resources;
  const cache = new Map<string, Resolved>();

  const physical = (id: string): Resolved => {
    const hit = cache.get(id);
    if (hit) return hit;
    const r = resources[id];
    if (!r) throw new Error(`IAM harness: the template has no resource ${id}`);
    const name = localNames.get(id) ?? id;
    const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
    let out: Resolved;
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        out = { ref: name, attrs: { Arn: `arn:aws:s3:::${name}` } };
        break;
      case 'AWS::DynamoDB::Table':
        out = { ref: name, attrs: { Arn: arn('dynamodb', `table/${name}`) } };
        break;
      case 'AWS::KMS::Key':
        out = { ref: name, attrs: { Arn: arn('kms', `key/${name}`), KeyId: name } };
        break;
      case 'AWS::SecretsManager::Secret':
        out = { ref: arn('secretsmanager', `secret:${name}`), attrs: {} };
        break;
      case 'AWS::StepFunctions::StateMachine': {
        const smName = localNames.get(id) ?? String(resolve(r.Properties?.StateMachineName ?? id));
        out = { ref: arn('states', `stateMachine:${smName}`), attrs: { Name: smName, Arn: arn('states', `stateMachine:${smName}`) } };
        break;
      }
      case 'AWS::Lambda::Function':
        out = { ref: name, attrs: { Arn: arn('lambda', `function:${name}`) } };
        break;
      case 'AWS::IAM::Role':
        out = { ref: name, attrs: { Arn: `arn:aws:iam::${ACCOUNT}:role/${name}` } };
        break;
      case 'AWS::IAM::ManagedPolicy':
        out = { ref: `arn:aws:iam::${ACCOUNT}:policy/${name}`, attrs: {} };
        break;
      case 'AWS::Logs::LogGroup':
        out = { ref: name, attrs: { Arn: arn('logs', `log-group:${name}:*`) } };
        break;
      default:
        // Not named by any ARN the archive's calls use: a unique, well-formed placeholder.
        out = { ref: name, attrs: { Arn: arn('cloudformation', `resource/${name}`) } };
    }
    cache.set(id, out);
    return out;
  };

  const getAtt = (id: string, attr: string): string => {
    const value = physical(id).attrs[attr];
    if (value === undefined) throw new Error(`IAM harness: cannot resolve Fn::GetAtt ${id}.${attr} (test/support/iam/account.ts)`);
    return value;
  };

  function resolve(value: unknown): Json {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const v = o[k];
      switch (k) {
        case 'Ref':
          return PSEUDO[v] ?? (v === 'AWS::StackName' ? stack.stackName : physical(v).ref);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(v) ? v : String(v).split(/\.(.*)/);
          return getAtt(id, attr);
        }
        case 'Fn::Join':
          return (resolve(v[1]) as string[]).join(v[0]);
        case 'Fn::Select':
          return (resolve(v[1]) as string[])[Number(resolve(v[0]))];
        case 'Fn::Split':
          return String(resolve(v[1])).split(v[0]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(v) ? v : [v, {}];
          return String(text).replace(/\$\{([^}]+)\}/g, (_: string, name: string) => {
            if (name in vars) return String(resolve(vars[name]));
            if (name in PSEUDO) return PSEUDO[name]!;
            const [id, attr] = name.split(/\.(.*)/);
            return attr ? getAtt(id!, attr) : physical(id!).ref;
          });
        }
        default:
          if (k.startsWith('Fn::')) throw new Error(`IAM harness: ${k} is not resolved (test/support/iam/account.ts)`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(o[k])]));
  }

  const refersTo = (list: unknown, id: string) => Array.isArray(list) && list.some((x) => (x as { Ref?: string })?.Ref === id);

  const roles = new Map<string, CallerRole>();
  for (const [caller, roleId] of callerRoles) {
    const role = resources[roleId];
    if (role?.Type !== 'AWS::IAM::Role') throw new Error(`IAM harness: ${caller}'s role ${roleId} is not an AWS::IAM::Role`);
    const policies: { name: string; policy: PolicyDocument }[] = [];
    for (const inline of role.Properties?.Policies ?? []) {
      policies.push({ name: `${roleId}/${inline.PolicyName}`, policy: resolve(inline.PolicyDocument) });
    }
    for (const arn of role.Properties?.ManagedPolicyArns ?? []) {
      const ref = (arn as { Ref?: string }).Ref;
      if (!ref || resources[ref]?.Type !== 'AWS::IAM::ManagedPolicy') {
        const which = JSON.stringify(arn);
        throw new Error(
          `IAM harness: ${caller}'s role has a managed policy not in the template (${which}); its statements are unknown here`,
        );
      }
    }
    for (const [id, r] of Object.entries(resources)) {
      const attached =
        (r.Type === 'AWS::IAM::ManagedPolicy' &&
          (refersTo(r.Properties?.Roles, roleId) || refersTo(role.Properties?.ManagedPolicyArns, id))) ||
        (r.Type === 'AWS::IAM::Policy' && refersTo(r.Properties?.Roles, roleId));
      if (attached) policies.push({ name: id, policy: resolve(r.Properties.PolicyDocument) });
    }
    roles.set(caller, { roleArn: getAtt(roleId, 'Arn'), policies });
  }

  const resourcePolicies = new Map<string, PolicyDocument>();
  const keys = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::S3::BucketPolicy') resourcePolicies.set(`arn:aws:s3:::${resolve(p.Bucket)}`, resolve(p.PolicyDocument));
    if (r.Type === 'AWS::KMS::Key') resourcePolicies.set(getAtt(id, 'Arn'), resolve(p.KeyPolicy));
    if (r.Type === 'AWS::S3::Bucket') {
      const key = p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID;
      if (key) keys.set(getAtt(id, 'Arn'), resolve(key));
    }
    if (r.Type === 'AWS::DynamoDB::Table' && p.SSESpecification?.KMSMasterKeyId) {
      keys.set(getAtt(id, 'Arn'), resolve(p.SSESpecification.KMSMasterKeyId));
    }
    if (r.Type === 'AWS::SecretsManager::Secret' && p.KmsKeyId) keys.set(physical(id).ref, resolve(p.KmsKeyId));
  }

  return { roles, resourcePolicies, keys, resolve };
}
