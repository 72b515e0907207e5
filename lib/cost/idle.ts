/**
 * What a deployment bills with nothing stored and no request (docs/cost.md, "Idle"): the resources
 * that cost by the hour or the month. test/cdk/cost-inventory.test.ts checks the counts against the
 * synthesized stack, so a new key, alarm or rule changes this table or fails there.
 */
import { Bill, MONTH_HOURS } from './model';
import { priceOf, type PriceTable } from './prices';

export interface IdleInventory {
  /** Customer managed KMS keys (data, clients table, logs, alarm topic, destination registry). */
  readonly kmsKeys: number;
  /** Metrics watched by CloudWatch alarms (a metric math alarm counts each of its metrics). */
  readonly alarmMetrics: number;
  /** WAF web ACLs and their rules (a managed rule group counts as one). */
  readonly webAcls: number;
  readonly wafRules: number;
  readonly secrets: number;
}

/** The DIMSE gateway (context dimse=true): its task, load balancer and NAT gateway. */
export interface DimseInventory {
  readonly taskVcpu: number;
  readonly taskMemoryGb: number;
  readonly natGateways: number;
  readonly publicIpv4: number;
  readonly loadBalancers: number;
  /** Alarm metrics it adds (healthy hosts). */
  readonly alarmMetrics: number;
}

export const IDLE_INVENTORY: IdleInventory = { kmsKeys: 5, alarmMetrics: 34, webAcls: 1, wafRules: 7, secrets: 1 };
export const DIMSE_INVENTORY: DimseInventory = {
  taskVcpu: 0.5,
  taskMemoryGb: 1,
  natGateways: 1,
  publicIpv4: 1,
  loadBalancers: 1,
  alarmMetrics: 1,
};

/** A month of the idle deployment, with the DIMSE gateway or without. */
export function idleMonth(prices: PriceTable, opts: { waf: boolean; dimse: boolean }): Bill {
  const p = (key: string) => priceOf(prices, key);
  const bill = new Bill();
  const i = IDLE_INVENTORY;
  bill.add('KMS', `${i.kmsKeys} customer managed keys`, i.kmsKeys * p('kms.keyMonth'));
  bill.add('CloudWatch', `alarms (${i.alarmMetrics} metrics)`, i.alarmMetrics * p('cloudwatch.alarmMetricMonth'));
  if (opts.waf) bill.add('WAF', `web ACL and ${i.wafRules} rules`, i.webAcls * p('waf.webAclMonth') + i.wafRules * p('waf.ruleMonth'));
  bill.add('Secrets Manager', 'destination registry', i.secrets * p('secretsmanager.secretMonth'));
  if (opts.dimse) {
    const d = DIMSE_INVENTORY;
    bill.add(
      'DIMSE gateway',
      `Fargate task (${d.taskVcpu} vCPU, ${d.taskMemoryGb} GB, ARM)`,
      MONTH_HOURS * (d.taskVcpu * p('fargate.arm64.vcpuHour') + d.taskMemoryGb * p('fargate.arm64.gbHour')),
    );
    bill.add('DIMSE gateway', 'Network Load Balancer', d.loadBalancers * MONTH_HOURS * p('elb.nlbHour'));
    bill.add(
      'DIMSE gateway',
      'NAT gateway and its public IPv4 address',
      MONTH_HOURS * (d.natGateways * p('vpc.natGatewayHour') + d.publicIpv4 * p('vpc.publicIpv4Hour')),
    );
    bill.add('CloudWatch', 'DIMSE gateway alarm', d.alarmMetrics * p('cloudwatch.alarmMetricMonth'));
  }
  return bill;
}
