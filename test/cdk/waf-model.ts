/**
 * A small evaluator of a synthesized AWS::WAFv2::WebACL over one request, enough to tell which rule
 * blocks it: the statements the archive's own rules use (evaluated as WAF documents them), and the
 * core rule set (CRS) rules DICOMweb traffic can trip, modelled from their documented inspection
 * (AWS WAF developer guide, "Core rule set (CRS) managed rule group"). The other managed groups are
 * modelled as matching nothing: the requests here carry no known bad input and come from no listed IP.
 */

export interface WafRequest {
  readonly method: string;
  /** URI path as WAF sees it on a REST API stage: with the stage name, e.g. /prod/studies. */
  readonly path: string;
  /** The raw query string, without '?'. */
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export type WafVerdict = { action: 'allow' } | { action: 'block'; by: string };

type Json = Record<string, any>;

/** API Gateway's body inspection limit for WAF (default 16 KB): the body rules see no more. */
const BODY_INSPECTION_BYTES = 16 * 1024;
const RFI = /(?:https?|ftps?|file):\/\/\d{1,3}(?:\.\d{1,3}){3}/i;
const XSS = /<script/i;
const LFI = /\.\.\//;

function queryValues(query: string): string[] {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => decodeURIComponent(pair.slice(pair.indexOf('=') + 1).replace(/\+/g, ' ')));
}

function inspectedBody(r: WafRequest): string {
  return Buffer.from(r.body ?? new Uint8Array())
    .subarray(0, BODY_INSPECTION_BYTES)
    .toString('latin1');
}

/** CRS rule -> [label suffix, does the request match]. */
const CRS: Record<string, [string, (r: WafRequest) => boolean]> = {
  SizeRestrictions_QUERYSTRING: ['SizeRestrictions_QueryString', (r) => Buffer.byteLength(r.query ?? '') > 2048],
  SizeRestrictions_URIPATH: ['SizeRestrictions_URIPath', (r) => Buffer.byteLength(r.path) > 1024],
  SizeRestrictions_BODY: ['SizeRestrictions_Body', (r) => (r.body?.byteLength ?? 0) > 8192],
  GenericRFI_QUERYARGUMENTS: ['GenericRFI_QueryArguments', (r) => queryValues(r.query ?? '').some((v) => RFI.test(v))],
  GenericRFI_BODY: ['GenericRFI_Body', (r) => RFI.test(inspectedBody(r))],
  GenericLFI_URIPATH: ['GenericLFI_URIPath', (r) => LFI.test(r.path)],
  GenericLFI_QUERYARGUMENTS: ['GenericLFI_QueryArguments', (r) => queryValues(r.query ?? '').some((v) => LFI.test(v))],
  GenericLFI_BODY: ['GenericLFI_Body', (r) => LFI.test(inspectedBody(r))],
  CrossSiteScripting_QUERYARGUMENTS: ['CrossSiteScripting_QueryArguments', (r) => queryValues(r.query ?? '').some((v) => XSS.test(v))],
  CrossSiteScripting_BODY: ['CrossSiteScripting_Body', (r) => XSS.test(inspectedBody(r))],
  EC2MetaDataSSRF_BODY: ['EC2MetaDataSSRF_Body', (r) => inspectedBody(r).includes('169.254.169.254')],
};

function field(r: WafRequest, fieldToMatch: Json): string {
  if (fieldToMatch.UriPath) return r.path;
  if (fieldToMatch.QueryString) return r.query ?? '';
  if (fieldToMatch.SingleHeader) {
    const name = String(fieldToMatch.SingleHeader.Name).toLowerCase();
    return Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';
  }
  if (fieldToMatch.Body) return inspectedBody(r);
  throw new Error(`field not modelled: ${JSON.stringify(fieldToMatch)}`);
}

function transform(value: string, transformations: Json[] = []): string {
  return transformations.reduce((v: string, t: Json) => {
    if (t.Type === 'NONE') return v;
    if (t.Type === 'LOWERCASE') return v.toLowerCase();
    throw new Error(`text transformation not modelled: ${t.Type}`);
  }, value);
}

function matches(s: Json, r: WafRequest, labels: Set<string>): boolean {
  if (s.AndStatement) return s.AndStatement.Statements.every((x: Json) => matches(x, r, labels));
  if (s.OrStatement) return s.OrStatement.Statements.some((x: Json) => matches(x, r, labels));
  if (s.NotStatement) return !matches(s.NotStatement.Statement, r, labels);
  if (s.LabelMatchStatement) {
    if (s.LabelMatchStatement.Scope !== 'LABEL') throw new Error('label namespaces not modelled');
    return labels.has(s.LabelMatchStatement.Key);
  }
  if (s.ByteMatchStatement) {
    const b = s.ByteMatchStatement;
    const value = transform(field(r, b.FieldToMatch), b.TextTransformations);
    const search = String(b.SearchString);
    const by: Record<string, (v: string) => boolean> = {
      EXACTLY: (v) => v === search,
      STARTS_WITH: (v) => v.startsWith(search),
      ENDS_WITH: (v) => v.endsWith(search),
      CONTAINS: (v) => v.includes(search),
    };
    const test = by[b.PositionalConstraint];
    if (!test) throw new Error(`positional constraint not modelled: ${b.PositionalConstraint}`);
    return test(value);
  }
  if (s.RegexMatchStatement) {
    const x = s.RegexMatchStatement;
    return new RegExp(x.RegexString).test(transform(field(r, x.FieldToMatch), x.TextTransformations));
  }
  if (s.SizeConstraintStatement) {
    const x = s.SizeConstraintStatement;
    const size = Buffer.byteLength(transform(field(r, x.FieldToMatch), x.TextTransformations));
    const by: Record<string, boolean> = {
      GT: size > x.Size,
      GE: size >= x.Size,
      LT: size < x.Size,
      LE: size <= x.Size,
      EQ: size === x.Size,
      NE: size !== x.Size,
    };
    return by[x.ComparisonOperator]!;
  }
  throw new Error(`statement not modelled: ${Object.keys(s).join(', ')}`);
}

/** The web ACL's verdict: rules by priority, managed rules adding labels, the first block wins. */
export function evaluateWebAcl(webAcl: Json, r: WafRequest): WafVerdict {
  const labels = new Set<string>();
  const rules = [...(webAcl.Rules as Json[])].sort((a, b) => a.Priority - b.Priority);
  for (const rule of rules) {
    const group = rule.Statement.ManagedRuleGroupStatement;
    if (group) {
      if (group.Name !== 'AWSManagedRulesCommonRuleSet') continue;
      if (group.ScopeDownStatement && !matches(group.ScopeDownStatement, r, labels)) continue;
      const counted = new Set((group.RuleActionOverrides ?? []).filter((o: Json) => o.ActionToUse.Count).map((o: Json) => o.Name));
      for (const [name, [label, test]] of Object.entries(CRS)) {
        if (!test(r)) continue;
        labels.add(`awswaf:managed:aws:core-rule-set:${label}`);
        if (!counted.has(name) && !rule.OverrideAction?.Count) return { action: 'block', by: `${group.Name}:${name}` };
      }
      continue;
    }
    if (!matches(rule.Statement, r, labels)) continue;
    if (rule.Action.Block) return { action: 'block', by: rule.Name };
    if (rule.Action.Allow) return { action: 'allow' };
  }
  if (webAcl.DefaultAction.Block) return { action: 'block', by: 'default action' };
  return { action: 'allow' };
}
