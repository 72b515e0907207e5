/**
 * Unit: the cost model (lib/cost/model.ts, idle.ts, workloads.ts) on small cases computed by hand, with
 * round prices, so a wrong formula (a unit, a share, a count) changes a figure these expect.
 */
import { describe, expect, it } from 'vitest';
import { idleMonth } from '../../../../lib/cost/idle';
import type { MeasuredFigures } from '../../../../lib/cost/measured';
import { CostModel, GB, MONTH_DAYS, type Assumptions } from '../../../../lib/cost/model';
import type { PriceTable } from '../../../../lib/cost/prices';
import { DEFAULT_STORAGE_TIERING, type StorageTiering } from '../../../../lib/cost/tiering';
import { steadyMonth } from '../../../../lib/cost/workloads';

const PRICES: Record<string, number> = {
  'apigateway.rest.request': 3e-6,
  'waf.request': 1e-6,
  'lambda.request': 2e-7,
  'lambda.gbSecond.arm64': 1e-5,
  'lambda.gbSecond.x86_64': 2e-5,
  's3.standard.put': 5e-6,
  's3.standard.get': 4e-7,
  's3.standard.gbMonth': 0.02,
  's3.glacierIr.gbMonth': 0.004,
  's3.glacierIr.get': 1e-5,
  's3.glacierIr.retrievalGb': 0.03,
  's3.glacierIr.transition': 2e-5,
  's3.intelligentTiering.frequentGbMonth': 0.02,
  's3.intelligentTiering.infrequentGbMonth': 0.01,
  's3.intelligentTiering.archiveInstantGbMonth': 0.004,
  's3.intelligentTiering.monitoringObjectMonth': 2.5e-6,
  's3.intelligentTiering.transition': 1e-5,
  'dynamodb.standard.writeUnit': 1e-6,
  'dynamodb.standard.readUnit': 2e-7,
  'dynamodb.standard.gbMonth': 0.25,
  'dynamodb.standardIa.writeUnit': 1.25e-6,
  'dynamodb.standardIa.readUnit': 2.5e-7,
  'dynamodb.standardIa.gbMonth': 0.1,
  'dynamodb.pitr.gbMonth': 0.2,
  'sfn.standard.transition': 2.5e-5,
  'transfer.internetOutGb': 0.09,
  'kms.keyMonth': 1,
  'cloudwatch.alarmMetricMonth': 0.1,
  'waf.webAclMonth': 5,
  'waf.ruleMonth': 1,
  'secretsmanager.secretMonth': 0.4,
  'fargate.arm64.vcpuHour': 0.04,
  'fargate.arm64.gbHour': 0.004,
  'elb.nlbHour': 0.02,
  'vpc.natGatewayHour': 0.04,
  'vpc.publicIpv4Hour': 0.005,
  'cloudwatch.logsIngestGb': 0.5,
  'xray.traceRecorded': 5e-6,
};
const prices: PriceTable = {
  region: 'test',
  currency: 'USD',
  read: '2026-12-06',
  prices: Object.fromEntries(
    Object.entries(PRICES).map(([k, usd]) => [k, { usd, per: 'unit', source: 'test', read: '2026-12-06', verified: 'yes' as const }]),
  ),
};

const tx = (requests: Record<string, number>, w = 0, r = 0) => ({ requests, dynamodbWriteUnits: w, dynamodbReadUnits: r });
const measured: MeasuredFigures = {
  calls: {
    measuredAt: '2026-12-06T00:00:00Z',
    command: 'test',
    instanceBytes: 40_000,
    transactions: {
      store: tx({ 'S3:PutObject': 2, 'DynamoDB:PutItem': 1 }, 10, 1),
      retrieve: tx({ 'S3:GetObject': 1, 'DynamoDB:GetItem': 1 }, 0, 1),
      metadata: tx({ 'S3:GetObject': 1, 'DynamoDB:GetItem': 1 }, 0, 1),
      search: tx({ 'DynamoDB:Query': 1 }, 0, 0.5),
      send: tx({ 'S3:GetObject': 1 }, 1, 1),
      delete: tx({ 'S3:DeleteObjects': 0.05 }, 5, 1),
    },
    metadataObjectBytes: GB / 2,
    indexBytes: GB / 4,
    gsiBytes: GB / 8,
  },
  cpu: {
    measuredAt: '2026-12-06T00:00:00Z',
    command: 'test',
    msPerInstance: { 'store.small': 4, 'store.large': 8, 'retrieve.small': 2, 'retrieve.large': 4, 'send.small': 6 },
    smallBytes: 40_000,
    largeBytes: 500_000,
  },
  functions: {
    store: { memoryMb: 1769, architecture: 'arm64' },
    retrieve: { memoryMb: 1024, architecture: 'arm64' },
    search: { memoryMb: 512, architecture: 'arm64' },
    delete: { memoryMb: 512, architecture: 'arm64' },
    deliver: { memoryMb: 1024, architecture: 'arm64' },
  },
  stepFunctions: { transitionsPerSend: 4, transitionsPerBatch: 1, batchSize: 10 },
};
const assumptions: Assumptions = {
  waitMs: { store: 10, retrieve: 15, metadata: 15, search: 30, send: 40, delete: 10 },
  searchCpuMs: 10,
  deleteCpuMs: 5,
  metadataInstancesPerRequest: 100,
  logBytesPerRequest: 1000,
};
const model = (tiering: Partial<StorageTiering> = {}, egress = true) =>
  new CostModel({ prices, measured, tiering: { ...DEFAULT_STORAGE_TIERING, ...tiering }, assumptions, egress });
const total = (b: { total(): number }) => b.total();

describe('storage', () => {
  it('a month in Standard: the object, its DICOM JSON, its index items and GSI copies, point-in-time recovery of the table', () => {
    const bill = model({ instanceTier: 'none' }).storageMonth(1, GB, 5);
    // 1 GB x 0.02 + 0.5 GB x 0.02 + 0.25 GB x (0.25 + 0.2) + 0.125 GB x 0.25
    expect(total(bill)).toBeCloseTo(0.02 + 0.01 + 0.1125 + 0.03125, 10);
  });

  it('glacier-ir after 90 days: month 2 shared between the classes by day, with the transition; month 3 in Glacier IR', () => {
    const m = model({ instanceTier: 'glacier-ir', instanceTierAfterDays: 90 });
    const standardShare = (90 - 2 * MONTH_DAYS) / MONTH_DAYS;
    const fixed = 0.01 + 0.1125 + 0.03125; // DICOM JSON and index, as above
    expect(total(m.storageMonth(1, GB, 2))).toBeCloseTo(0.02 * standardShare + 0.004 * (1 - standardShare) + 2e-5 + fixed, 10);
    expect(total(m.storageMonth(1, GB, 3))).toBeCloseTo(0.004 + fixed, 10);
    expect(total(m.storageMonth(1, GB, 1))).toBeCloseTo(0.02 + fixed, 10);
  });

  it('objects of 128 KiB or less stay in Standard (the rule filters on size)', () => {
    const m = model({ instanceTier: 'glacier-ir', instanceTierAfterDays: 90 });
    expect(m.classesInMonth(10, 128 * 1024)).toEqual([['standard', 1]]);
    const tiered = m.classesInMonth(10, 128 * 1024 + 1);
    expect(tiered.map(([c]) => c)).toEqual(['glacier-ir']);
    expect(tiered[0]![1]).toBeCloseTo(1, 12);
  });

  it('intelligent-tiering from day 0: frequent 30 days, infrequent to 90, archive instant after, each object monitored', () => {
    const m = model({ instanceTier: 'intelligent-tiering', instanceTierAfterDays: 0 });
    const month0 = m.storageMonth(1000, GB / 1000, 0);
    const frequentShare = 30 / MONTH_DAYS;
    const s3Storage = month0.lines().filter((l) => l.item.startsWith('storage, it-'));
    expect(s3Storage.reduce((n, l) => n + l.usd, 0)).toBeCloseTo(0.02 * frequentShare + 0.01 * (1 - frequentShare), 10);
    expect(month0.lines().find((l) => l.item === 'Intelligent-Tiering monitoring')!.usd).toBeCloseTo(1000 * 2.5e-6, 12);
    expect(month0.lines().find((l) => l.item === 'lifecycle transitions')!.usd).toBeCloseTo(1000 * 1e-5, 12);
    expect(m.classAt(4, GB)).toBe('it-archive-instant');
  });

  it('Standard-IA table class prices index storage and request units at its rates', () => {
    const bill = model({ instanceTier: 'none', tableClass: 'standard-ia' }).storageMonth(1, GB, 0);
    expect(total(bill)).toBeCloseTo(0.02 + 0.01 + 0.25 * (0.1 + 0.2) + 0.125 * 0.1, 10);
    const store = model({ tableClass: 'standard-ia' }).transaction('store', 1, 40_000);
    expect(store.lines().find((l) => l.item === 'write request units')!.usd).toBeCloseTo(10 * 1.25e-6, 14);
  });
});

describe('transactions', () => {
  it('retrieve of 1,000 instances of 270,000 bytes, every line by hand', () => {
    const bill = model().transaction('retrieve', 1000, 270_000);
    const line = (item: string, service?: string) => bill.lines().find((l) => l.item === item && (!service || l.service === service))?.usd;
    expect(line('REST requests')).toBeCloseTo(1000 * 3e-6, 12);
    expect(line('requests', 'Lambda')).toBeCloseTo(1000 * 2e-7, 12);
    // CPU halfway between 2 and 4 ms = 3 ms, x 1769/1024 (CPU share at 1,024 MB), + 15 ms waiting; 1 GB.
    const ms = 3 * (1769 / 1024) + 15;
    expect(line('duration (retrieve)')).toBeCloseTo(((1000 * ms) / 1000) * 1e-5, 12);
    expect(line('GET requests')).toBeCloseTo(1000 * 4e-7, 12);
    expect(line('read request units')).toBeCloseTo(1000 * 2e-7, 12);
    expect(line('out to the internet')).toBeCloseTo(((1000 * 270_000) / GB) * 0.09, 12);
    expect(bill.lines().find((l) => l.service === 'WAF')!.usd).toBeCloseTo(1000 * 1e-6, 12);
    expect(line('logs ingested')).toBeCloseTo(((1000 * 1000) / GB) * 0.5, 12);
    expect(line('traces recorded')).toBeCloseTo(1000 * 5e-6, 12);
  });

  it('from Glacier IR a retrieve pays its GET price and the retrieval per GB; without egress no transfer', () => {
    const bill = model({}, false).transaction('retrieve', 10, GB, { from: 'glacier-ir' });
    expect(bill.lines().find((l) => l.item === 'GET requests')!.usd).toBeCloseTo(10 * 1e-5, 12);
    expect(bill.lines().find((l) => l.item === 'Glacier IR retrieval')!.usd).toBeCloseTo(10 * 0.03, 12);
    expect(bill.lines().some((l) => l.service === 'Data transfer')).toBe(false);
  });

  it('a Store request holds as many instances as 4,653,056 bytes do: nine of 0.5 MB', () => {
    const m = model();
    expect(m.instancesPerStoreRequest(500_000)).toBe(9);
    const bill = m.transaction('store', 900, 500_000);
    expect(bill.lines().find((l) => l.item === 'REST requests')!.usd).toBeCloseTo(100 * 3e-6, 12);
    // 1,769 MB: a full vCPU, the CPU time as measured (8 ms at 0.5 MB) + 10 ms waiting, 1769/1024 GB.
    expect(bill.lines().find((l) => l.item === 'duration (store)')!.usd).toBeCloseTo(((900 * 18) / 1000) * (1769 / 1024) * 1e-5, 12);
    expect(bill.lines().find((l) => l.item === 'PUT, COPY, LIST requests')!.usd).toBeCloseTo(1800 * 5e-6, 12);
    expect(bill.lines().find((l) => l.item === 'write request units')!.usd).toBeCloseTo(9000 * 1e-6, 12);
  });

  it('a Send of a 500-instance study: its own 4 transitions and one per batch of 10, Deliver once per batch', () => {
    const bill = model().transaction('send', 500, 40_000, { instancesPerStudy: 500 });
    expect(bill.lines().find((l) => l.item === 'state transitions')!.usd).toBeCloseTo((4 + 50) * 2.5e-5, 12);
    expect(bill.lines().find((l) => l.service === 'Lambda' && l.item === 'requests')!.usd).toBeCloseTo(50 * 2e-7, 12);
    expect(bill.lines().find((l) => l.item === 'REST requests')!.usd).toBeCloseTo(1 * 3e-6, 12);
  });
});

describe('a steady month', () => {
  it('is this month arriving, every retained month stored, the oldest month deleted', () => {
    const m = model({ instanceTier: 'none' }, false);
    const shape = { label: 'x', instances: 10, instanceBytes: 40_000 };
    const w = {
      id: 'w',
      title: 'w',
      studies: [{ shape, perMonth: 3 }],
      retentionMonths: 2,
      retrievalsFirstMonth: 0,
      priorRetrievalsPerStudyMonth: 0,
      sendsPerStudy: 0,
      searchesPerStudy: 0,
    };
    const expected =
      total(m.transaction('store', 30, 40_000)) +
      total(m.storageMonth(30, 40_000, 0)) +
      total(m.storageMonth(30, 40_000, 1)) +
      total(m.deletion(30, 40_000, 2, 10));
    expect(total(steadyMonth(m, w))).toBeCloseTo(expected, 12);
    // The deletion keeps the deleted versions 30 days: 30 / (365 / 12) of a month of their objects.
    const kept = m
      .deletion(30, 40_000, 2, 10)
      .lines()
      .find((l) => l.item === 'noncurrent versions')!.usd;
    expect(kept).toBeCloseTo(((30 * 40_000 + (30 * GB) / 2) / GB) * 0.02 * (30 / MONTH_DAYS), 12);
  });
});

describe('idle', () => {
  it('itemises keys, alarms, WAF and the registry; the DIMSE gateway adds its task, NLB and NAT gateway', () => {
    expect(total(idleMonth(prices, { waf: true, dimse: false }))).toBeCloseTo(5 * 1 + 34 * 0.1 + 5 + 7 * 1 + 0.4, 10);
    expect(total(idleMonth(prices, { waf: false, dimse: false }))).toBeCloseTo(5 + 3.4 + 0.4, 10);
    const dimse = total(idleMonth(prices, { waf: true, dimse: true })) - total(idleMonth(prices, { waf: true, dimse: false }));
    expect(dimse).toBeCloseTo(730 * (0.5 * 0.04 + 1 * 0.004) + 730 * 0.02 + 730 * (0.04 + 0.005) + 0.1, 10);
  });
});
