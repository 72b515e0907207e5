/**
 * CDK: what the idle deployment bills (lib/cost/idle.ts) is what the stack deploys: its KMS keys,
 * alarm metrics, WAF rules and secrets; with dimse=true its Fargate task, NLB and NAT gateway.
 */
import { describe, expect, it } from 'vitest';
import { DIMSE_INVENTORY, IDLE_INVENTORY } from '../../lib/cost/idle';
import { synth, type Resources } from './helpers';

function inventory(context: Record<string, unknown> = {}) {
  const resources = Object.values(synth(context).template.toJSON().Resources as Resources);
  const of = (type: string) => resources.filter((r) => r.Type === type);
  const alarmMetrics = of('AWS::CloudWatch::Alarm').reduce(
    (n, a) => n + (a.Properties.Metrics ? a.Properties.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).length : 1),
    0,
  );
  return {
    kmsKeys: of('AWS::KMS::Key').length,
    alarmMetrics,
    webAcls: of('AWS::WAFv2::WebACL').length,
    wafRules: of('AWS::WAFv2::WebACL').reduce((n, acl) => n + acl.Properties.Rules.length, 0),
    secrets: of('AWS::SecretsManager::Secret').length,
    tasks: of('AWS::ECS::TaskDefinition').map((t) => ({
      cpu: Number(t.Properties.Cpu) / 1024,
      memoryGb: Number(t.Properties.Memory) / 1024,
    })),
    natGateways: of('AWS::EC2::NatGateway').length,
    publicIpv4: of('AWS::EC2::EIP').length,
    loadBalancers: of('AWS::ElasticLoadBalancingV2::LoadBalancer').length,
  };
}

describe('the idle inventory priced by npm run cost', () => {
  it('the default stack', () => {
    const found = inventory();
    expect({
      kmsKeys: found.kmsKeys,
      alarmMetrics: found.alarmMetrics,
      webAcls: found.webAcls,
      wafRules: found.wafRules,
      secrets: found.secrets,
    }).toEqual(IDLE_INVENTORY);
    expect([found.tasks.length, found.natGateways, found.loadBalancers]).toEqual([0, 0, 0]);
  });

  it('with the DIMSE gateway', () => {
    const found = inventory({ dimse: 'true', dimseAllowedCidrs: '10.20.0.0/16' });
    expect(found.tasks).toEqual([{ cpu: DIMSE_INVENTORY.taskVcpu, memoryGb: DIMSE_INVENTORY.taskMemoryGb }]);
    expect(found.natGateways).toBe(DIMSE_INVENTORY.natGateways);
    expect(found.publicIpv4).toBe(DIMSE_INVENTORY.publicIpv4);
    expect(found.loadBalancers).toBe(DIMSE_INVENTORY.loadBalancers);
    expect(found.alarmMetrics - IDLE_INVENTORY.alarmMetrics).toBe(DIMSE_INVENTORY.alarmMetrics);
    expect(found.kmsKeys).toBe(IDLE_INVENTORY.kmsKeys);
  });
});
