import { App, Stack, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ArchiveStack } from '../../lib/archive-stack';

export type Resources = Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string }>;

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

// Bundling is skipped: these tests look at the template, not at the code assets.
export function synth(context: Record<string, unknown> = {}): { stack: ArchiveStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new ArchiveStack(app, 'Test');
  return { stack, template: Template.fromStack(stack) };
}

export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnResource);
}

/** "METHOD /path/{param}" of every API method, rebuilt from the Resource tree of the template. */
export function methodsOf(template: Template): Map<string, Record<string, any>> {
  const resources = template.toJSON().Resources as Resources;
  const pathOf = (id: string): string => {
    const r = resources[id]!;
    const parent = r.Properties.ParentId;
    const parentPath = parent.Ref ? pathOf(parent.Ref) : '';
    return `${parentPath}/${r.Properties.PathPart}`;
  };
  const out = new Map<string, Record<string, any>>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::ApiGateway::Method') continue;
    // Methods on the service root point at the RestApi's RootResourceId instead of a Resource.
    const path = r.Properties.ResourceId.Ref ? pathOf(r.Properties.ResourceId.Ref) : '/';
    out.set(`${r.Properties.HttpMethod} ${path}`, r.Properties);
  }
  return out;
}

export function policyStatements(template: Template, policyLogicalId: string): PolicyStatement[] {
  const policy = (template.toJSON().Resources as Resources)[policyLogicalId]!;
  return policy.Properties.PolicyDocument.Statement;
}

export function policyActions(template: Template, policyLogicalId: string): string[] {
  return policyStatements(template, policyLogicalId).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
