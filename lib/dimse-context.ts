/**
 * The DIMSE gateway's context options (docs/configuration.md, docs/dimse-gateway.md): `dimse` and the
 * `dimse*` settings, their types checked at synth; their values are checked by the gateway's own
 * rules when the construct is built (lib/constructs/dimse-gateway.ts).
 */
import type { Construct } from 'constructs';
import type { DimseSettings } from './constructs/dimse-gateway';

/** The gateway's deployment choices from context; undefined unless context `dimse` is 'true'. */
export function dimseSettingsFromContext(node: Construct['node']): DimseSettings | undefined {
  const on: unknown = node.tryGetContext('dimse');
  if (on !== true && on !== 'true') {
    if (on === undefined || on === false || on === 'false') return undefined;
    throw new Error(`context dimse must be 'true' or 'false', got ${JSON.stringify(on)}`);
  }
  // Values are checked by the gateway's own rules (DimseGateway, checkWithGatewayRules); here, their types.
  const aeTitle = String(node.tryGetContext('dimseAet') ?? 'ARCHIVE');
  const port = Number(node.tryGetContext('dimsePort') ?? 11112);
  const cidrs: unknown = node.tryGetContext('dimseAllowedCidrs') ?? [];
  const allowedCidrs =
    typeof cidrs === 'string'
      ? cidrs
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean)
      : cidrs;
  if (!Array.isArray(allowedCidrs) || !allowedCidrs.every((c) => typeof c === 'string' && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c))) {
    throw new Error('context dimseAllowedCidrs must be IPv4 CIDRs (a list or comma-separated)');
  }
  const moveProxyOrigin: unknown = node.tryGetContext('dimseMoveProxyOrigin');
  if (moveProxyOrigin !== undefined && (typeof moveProxyOrigin !== 'string' || !/^https:\/\//.test(moveProxyOrigin))) {
    throw new Error('context dimseMoveProxyOrigin must be an https URL');
  }
  const text = (name: string): string | undefined => {
    const raw: unknown = node.tryGetContext(name);
    if (raw !== undefined && (typeof raw !== 'string' || raw === '')) throw new Error(`context ${name} must be a non-empty string`);
    return raw;
  };
  const moveProxyTokenUrl = text('dimseMoveProxyTokenUrl');
  if (moveProxyTokenUrl !== undefined && !/^https:\/\//.test(moveProxyTokenUrl))
    throw new Error('context dimseMoveProxyTokenUrl must be an https URL');
  const moveProxyClientId = text('dimseMoveProxyClientId');
  const moveProxyScope = text('dimseMoveProxyScope');
  const moveProxyClientSecretArn = text('dimseMoveProxyClientSecretArn');
  if (
    moveProxyClientSecretArn !== undefined &&
    !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+-[A-Za-z0-9]{6}$/.test(moveProxyClientSecretArn)
  )
    throw new Error(
      'context dimseMoveProxyClientSecretArn must be the complete ARN of a Secrets Manager secret (with its 6-character suffix)',
    );
  const limit = (name: string): number | undefined => {
    const raw: unknown = node.tryGetContext(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`context ${name} must be a positive integer`);
    return n;
  };
  const idleTimeoutSeconds = limit('dimseIdleTimeoutSeconds');
  if (idleTimeoutSeconds !== undefined && (idleTimeoutSeconds < 60 || idleTimeoutSeconds > 6000)) {
    throw new Error('context dimseIdleTimeoutSeconds must be from 60 to 6000 (the NLB TCP idle timeout)');
  }
  const vpcCidr: unknown = node.tryGetContext('dimseVpcCidr');
  if (vpcCidr !== undefined && !(typeof vpcCidr === 'string' && isVpcCidr(vpcCidr))) {
    throw new Error('context dimseVpcCidr must be an IPv4 CIDR from /16 to /22 (four /24 subnets), e.g. 10.42.0.0/16');
  }
  const maxAssociations = limit('dimseMaxAssociations');
  const maxObjectBytes = limit('dimseMaxObjectBytes');
  const maxBufferedBytes = limit('dimseMaxBufferedBytes');
  return {
    aeTitle,
    port,
    allowedCidrs,
    ...(idleTimeoutSeconds ? { idleTimeoutSeconds } : {}),
    ...(vpcCidr ? { vpcCidr: vpcCidr as string } : {}),
    ...(moveProxyOrigin ? { moveProxyOrigin: moveProxyOrigin as string } : {}),
    ...(moveProxyTokenUrl ? { moveProxyTokenUrl } : {}),
    ...(moveProxyClientId ? { moveProxyClientId } : {}),
    ...(moveProxyScope ? { moveProxyScope } : {}),
    ...(moveProxyClientSecretArn ? { moveProxyClientSecretArn } : {}),
    ...(maxAssociations ? { maxAssociations } : {}),
    ...(maxObjectBytes ? { maxObjectBytes } : {}),
    ...(maxBufferedBytes ? { maxBufferedBytes } : {}),
  };
}

/** An IPv4 network address with a prefix of /16 to /22: two public and two private /24 subnets fit. */
function isVpcCidr(cidr: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix < 16 || prefix > 22) return false;
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  return address % 2 ** (32 - prefix) === 0;
}
