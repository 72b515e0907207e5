import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { ArchiveLogs } from './logs';

/** Label namespace of the AWS managed core rule set (AWS WAF developer guide, "Core rule set (CRS)"). */
const CRS_LABEL = 'awswaf:managed:aws:core-rule-set';

/**
 * Core rule set rules that DICOMweb traffic trips, counted (with their label) instead of blocking:
 * - SizeRestrictions_QUERYSTRING (2,048 bytes): a QIDO-RS key with a list of UIDs (PS3.18 8.3.4.1).
 * - SizeRestrictions_URIPATH (1,024 bytes): a frame list (PS3.18 10.4.1.1.3) of a few hundred frames.
 * - GenericRFI_QUERYARGUMENTS: the `destination` URL of a Send (Sup 248) to a peer named by its IPv4 address.
 * - the body rules: STOW-RS bodies are binary DICOM, megabytes of it, where the patterns occur by chance.
 * The narrower rules below block what these would have blocked outside DICOMweb's needs.
 */
export const COUNTED_CRS_RULES = [
  'SizeRestrictions_QUERYSTRING',
  'SizeRestrictions_URIPATH',
  'GenericRFI_QUERYARGUMENTS',
  'SizeRestrictions_BODY',
  'CrossSiteScripting_BODY',
  'GenericRFI_BODY',
  'GenericLFI_BODY',
  'EC2MetaDataSSRF_BODY',
] as const;

/** Labels of the counted body rules (rule name BODY -> label suffix Body). */
const BODY_LABELS = ['SizeRestrictions_Body', 'CrossSiteScripting_Body', 'GenericRFI_Body', 'GenericLFI_Body', 'EC2MetaDataSSRF_Body'];

/**
 * Query string and URI path bounds of the archive: a 5,000-byte UID list or a frame list of 1,000
 * frames fits, while API Gateway's own limit on the request line and headers (10,240 bytes) stays above.
 */
export const MAX_QUERY_STRING_BYTES = 8192;
export const MAX_URI_PATH_BYTES = 8192;

/**
 * Content types whose bodies are DICOM (PS3.18 8.7.3: multipart/related of application/dicom,
 * application/dicom+json or +xml, bulk data as application/octet-stream): the body rules only count on
 * them. Matched at the start of the lowercased Content-Type header.
 */
export const DICOM_BODY_TYPES = ['multipart/related', 'application/dicom', 'application/octet-stream'];

/** The Send path (Sup 248): the one place a URL in a query argument (`destination`) belongs. */
export const SEND_PATH_PATTERN = '/send-requests/[^/]+$';

type Statement = wafv2.CfnWebACL.StatementProperty;
const lowercase = [{ priority: 0, type: 'LOWERCASE' }];
const label = (name: string): Statement => ({ labelMatchStatement: { scope: 'LABEL', key: `${CRS_LABEL}:${name}` } });
const not = (statement: Statement): Statement => ({ notStatement: { statement } });
const or = (statements: Statement[]): Statement => (statements.length === 1 ? statements[0]! : { orStatement: { statements } });

/**
 * The WAFv2 web ACL of the API stage (AwsSolutions-APIG3), created in `scope`: AWS managed rule groups,
 * scoped to DICOMweb traffic by counting the rules it trips and blocking what they guard against with
 * rules that know DICOMweb; its logs go to a log group of the archive with query strings and paths redacted.
 */
export function protectStage(scope: Construct, stageArn: string, logs: ArchiveLogs): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: false });
  const managed = (name: string, priority: number, counted: readonly string[] = []): wafv2.CfnWebACL.RuleProperty => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(counted.length ? { ruleActionOverrides: counted.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
      },
    },
    visibilityConfig: visibility(name),
  });
  const block = (name: string, priority: number, statement: Statement): wafv2.CfnWebACL.RuleProperty => ({
    name,
    priority,
    action: { block: {} },
    statement,
    visibilityConfig: visibility(name),
  });
  const dicomBody: Statement = or(
    DICOM_BODY_TYPES.map((type) => ({
      byteMatchStatement: {
        fieldToMatch: { singleHeader: { Name: 'content-type' } },
        positionalConstraint: 'STARTS_WITH',
        searchString: type,
        textTransformations: lowercase,
      },
    })),
  );
  const tooLong = (fieldToMatch: wafv2.CfnWebACL.FieldToMatchProperty, size: number): Statement => ({
    sizeConstraintStatement: { fieldToMatch, comparisonOperator: 'GT', size, textTransformations: [{ priority: 0, type: 'NONE' }] },
  });

  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    // Sampled requests stay off: they would copy request data (UIDs, query keys) to WAF.
    visibilityConfig: visibility('DicomwebApi'),
    rules: [
      managed('AWSManagedRulesCommonRuleSet', 0, COUNTED_CRS_RULES),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
      managed('AWSManagedRulesAmazonIpReputationList', 2),
      // After the managed groups, whose labels they read.
      block('QueryStringTooLong', 10, tooLong({ queryString: {} }, MAX_QUERY_STRING_BYTES)),
      block('UriPathTooLong', 11, tooLong({ uriPath: {} }, MAX_URI_PATH_BYTES)),
      block('RemoteFileInclusionOutsideSend', 12, {
        andStatement: {
          statements: [
            label('GenericRFI_QueryArguments'),
            not({
              regexMatchStatement: {
                fieldToMatch: { uriPath: {} },
                regexString: SEND_PATH_PATTERN,
                textTransformations: [{ priority: 0, type: 'NONE' }],
              },
            }),
          ],
        },
      }),
      block('BodyRulesOutsideDicom', 13, { andStatement: { statements: [or(BODY_LABELS.map(label)), not(dicomBody)] } }),
    ],
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: stageArn, webAclArn: webAcl.attrArn });

  // WAF requires the aws-waf-logs- name prefix and the log group ARN without the trailing ':*'. The
  // web ACL's id, new at each creation, ends the name: a group retained from a destroyed stack
  // (retainData) keeps its name and does not block the next deployment.
  const stack = Stack.of(scope);
  const wafLogs = logs.logGroup(scope, 'WafLogs', `aws-waf-logs-${stack.stackName}-${webAcl.attrId}`);
  // Query strings (QIDO keys such as PatientName), paths (UIDs) and credentials are redacted.
  new wafv2.CfnLoggingConfiguration(scope, 'WebAclLogging', {
    resourceArn: webAcl.attrArn,
    logDestinationConfigs: [
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: wafLogs.logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
    redactedFields: [{ queryString: {} }, { uriPath: {} }, { singleHeader: { Name: 'authorization' } }],
  });
  return webAcl;
}
