/**
 * The cost model of the archive in AWS (docs/cost.md): what each transaction and each month of storage
 * bills, from the figures the bench measured (./measured.ts) and a price table (./prices.ts).
 *
 * Per instance of B bytes:
 * - API Gateway and Lambda requests: one per Store request (as many instances as the 4.5 MB request
 *   limit holds), per retrieved instance, per Deliver batch, per search, per Delete of a study;
 * - Lambda duration: the measured CPU-ms at B (interpolated between the bench's two sizes), stretched by
 *   the function's CPU share (a full vCPU at 1,769 MB, in proportion below), plus the time it waits on
 *   S3, DynamoDB and the destination (assumptions, below), x the function's memory;
 * - S3 and DynamoDB: the measured requests by operation and DynamoDB request units;
 * - Step Functions: the Send's own state transitions and one child execution per Deliver batch;
 * - CloudWatch Logs and X-Ray: each invocation's log lines ingested, and its trace;
 * - storage: the Part 10 object in its class by age (./tiering.ts), its DICOM JSON object in Standard,
 *   its index items (table and GSI copies) with point-in-time recovery;
 * - transfer out: retrieved and sent bytes, when they leave AWS.
 */
import type { MeasuredFigures, MeasuredTransactionName } from './measured';
import { priceOf, type PriceTable } from './prices';
import { TIERED_OBJECT_MIN_BYTES, type StorageTiering } from './tiering';

/** Bytes per GB as AWS bills storage and transfer (2^30). */
export const GB = 1024 ** 3;
/** Days per month (365 / 12). */
export const MONTH_DAYS = 365 / 12;
/** Hours per month (24 x 365 / 12). */
export const MONTH_HOURS = 730;
/** The Store request limit the functions enforce (Lambda's 6 MB payload, base64: lambdas/config.ts). */
export const STORE_REQUEST_BYTES = 4_653_056;
/** Lambda's CPU share: one full vCPU at 1,769 MB, in proportion below (Lambda developer guide, "Memory and computing power"). */
export const FULL_VCPU_MB = 1769;

/** What the bench does not measure, stated (docs/cost.md, "Assumptions"). */
export interface Assumptions {
  /** Milliseconds a function waits per instance (search: per query) on S3, DynamoDB or the destination. */
  readonly waitMs: Readonly<Record<MeasuredTransactionName, number>>;
  /** CPU-ms of a search query and of deleting an instance (not timed by the bench). */
  readonly searchCpuMs: number;
  readonly deleteCpuMs: number;
  /** Instances whose metadata one request reads: a viewer asks for a series' metadata at once. */
  readonly metadataInstancesPerRequest: number;
  /**
   * Log bytes CloudWatch ingests per request: Lambda's START, END and REPORT lines (~350), the usage
   * line (~320, lambdas/http/usage-log.ts), API Gateway's access log line (~430).
   */
  readonly logBytesPerRequest: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  // Same-region round trips: DynamoDB ~5 ms, S3 ~10-20 ms to first byte; Store makes four in a row per instance.
  waitMs: { store: 30, retrieve: 15, metadata: 15, search: 30, send: 40, delete: 10 },
  searchCpuMs: 10,
  deleteCpuMs: 5,
  metadataInstancesPerRequest: 100,
  logBytesPerRequest: 1100,
};

export interface LineItem {
  readonly service: string;
  readonly item: string;
  readonly usd: number;
}

/** Line items summed by (service, item). */
export class Bill {
  private readonly items = new Map<string, LineItem>();

  add(service: string, item: string, usd: number): void {
    if (!Number.isFinite(usd)) throw new Error(`${service} ${item}: not a number`);
    if (usd === 0) return;
    const key = `${service}\u0000${item}`;
    const prior = this.items.get(key);
    this.items.set(key, { service, item, usd: (prior?.usd ?? 0) + usd });
  }

  addAll(other: Bill, times = 1): void {
    for (const i of other.lines()) this.add(i.service, i.item, i.usd * times);
  }

  lines(): LineItem[] {
    return [...this.items.values()];
  }

  total(): number {
    return this.lines().reduce((n, i) => n + i.usd, 0);
  }

  byService(): Map<string, number> {
    const out = new Map<string, number>();
    for (const i of this.lines()) out.set(i.service, (out.get(i.service) ?? 0) + i.usd);
    return new Map([...out].sort((a, b) => b[1] - a[1]));
  }
}

/** The storage class an instance object is in, as a lifecycle rule and S3 put it there. */
export type ObjectClass = 'standard' | 'glacier-ir' | 'it-frequent' | 'it-infrequent' | 'it-archive-instant';

export interface ModelInput {
  readonly prices: PriceTable;
  readonly measured: MeasuredFigures;
  readonly tiering: StorageTiering;
  readonly assumptions: Assumptions;
  /** Retrieved and sent bytes leave AWS (to a viewer or destination on the internet). */
  readonly egress: boolean;
}

/** The function that serves each transaction, and what it is billed per instance. */
const FUNCTION_OF: Record<MeasuredTransactionName, string> = {
  store: 'store',
  retrieve: 'retrieve',
  metadata: 'retrieve',
  search: 'search',
  send: 'deliver',
  delete: 'delete',
};

export class CostModel {
  constructor(readonly input: ModelInput) {}

  private p(key: string): number {
    return priceOf(this.input.prices, key);
  }

  /** Instances of `bytes` one Store request holds (at least one). */
  instancesPerStoreRequest(bytes: number): number {
    return Math.max(1, Math.floor(STORE_REQUEST_BYTES / (bytes + 200)));
  }

  /** CPU-ms per instance of `bytes`, interpolated (and extrapolated) between the bench's two sizes. */
  cpuMs(tx: MeasuredTransactionName, bytes: number): number {
    const { msPerInstance: ms, smallBytes, largeBytes } = this.input.measured.cpu;
    const at = (small: number, large: number) =>
      Math.max(small, small + ((large - small) * (bytes - smallBytes)) / (largeBytes - smallBytes));
    switch (tx) {
      case 'store':
        return at(ms['store.small']!, ms['store.large']!);
      case 'retrieve':
        return at(ms['retrieve.small']!, ms['retrieve.large']!);
      case 'metadata':
        return ms['retrieve.small']!;
      case 'send':
        // Sending reads and writes the bytes as a retrieve does; the bench times Send at the small size.
        return ms['send.small']! + at(ms['retrieve.small']!, ms['retrieve.large']!) - ms['retrieve.small']!;
      case 'search':
        return this.input.assumptions.searchCpuMs;
      case 'delete':
        return this.input.assumptions.deleteCpuMs;
    }
  }

  /** Billed milliseconds per instance (per query for search) of the transaction's function. */
  billedMs(tx: MeasuredTransactionName, bytes: number): number {
    const memoryMb = this.functionOf(tx).memoryMb;
    return this.cpuMs(tx, bytes) * Math.max(1, FULL_VCPU_MB / memoryMb) + this.input.assumptions.waitMs[tx];
  }

  private functionOf(tx: MeasuredTransactionName) {
    const name = FUNCTION_OF[tx];
    const f = this.input.measured.functions[name];
    if (!f) throw new Error(`measured figures name no function ${name}`);
    return f;
  }

  /** Requests of API Gateway (and Lambda invocations) per instance: see the module comment. */
  private invocationsPerInstance(tx: MeasuredTransactionName, bytes: number, instancesPerStudy: number): number {
    switch (tx) {
      case 'store':
        return 1 / this.instancesPerStoreRequest(bytes);
      case 'retrieve':
      case 'search':
        return 1;
      case 'metadata':
        return 1 / this.input.assumptions.metadataInstancesPerRequest;
      case 'send':
        return 1 / this.input.measured.stepFunctions.batchSize;
      case 'delete':
        return 1 / instancesPerStudy;
    }
  }

  /**
   * The bill of `count` transactions `tx` on instances of `bytes` (search: `count` queries), objects
   * read from `from` (retrieve, send), `instancesPerStudy` the size of the study a Send or Delete covers.
   */
  transaction(
    tx: MeasuredTransactionName,
    count: number,
    bytes: number,
    opts: { from?: ObjectClass; instancesPerStudy?: number } = {},
  ): Bill {
    const bill = new Bill();
    if (count === 0) return bill;
    const perStudy = opts.instancesPerStudy ?? 1;
    const fn = this.functionOf(tx);
    const invocations = count * this.invocationsPerInstance(tx, bytes, perStudy);
    // API Gateway (and WAF) see the client's requests; Deliver is invoked by Step Functions.
    if (tx !== 'send') {
      bill.add('API Gateway', 'REST requests', invocations * this.p('apigateway.rest.request'));
      bill.add('WAF', 'requests', invocations * this.p('waf.request'));
    } else {
      bill.add('API Gateway', 'REST requests', (count / perStudy) * this.p('apigateway.rest.request'));
    }
    bill.add('Lambda', 'requests', invocations * this.p('lambda.request'));
    // Every invocation logs and is traced (X-Ray active tracing; the default sampling records the first
    // request of each second and 5 % of the rest, so this is the bound, reached below ~1 request a second).
    bill.add(
      'CloudWatch',
      'logs ingested',
      ((invocations * this.input.assumptions.logBytesPerRequest) / GB) * this.p('cloudwatch.logsIngestGb'),
    );
    bill.add('X-Ray', 'traces recorded', invocations * this.p('xray.traceRecorded'));
    const gbSeconds = (count * this.billedMs(tx, bytes) * fn.memoryMb) / 1024 / 1000;
    bill.add('Lambda', `duration (${FUNCTION_OF[tx]})`, gbSeconds * this.p(`lambda.gbSecond.${fn.architecture}`));

    const measured = this.input.measured.calls.transactions[tx];
    const from = opts.from ?? 'standard';
    for (const [op, perInstance] of Object.entries(measured.requests)) {
      const n = count * perInstance;
      if (
        op === 'S3:PutObject' ||
        op === 'S3:CopyObject' ||
        op === 'S3:ListObjectsV2' ||
        op === 'S3:CreateMultipartUpload' ||
        op === 'S3:UploadPart'
      ) {
        bill.add('S3', 'PUT, COPY, LIST requests', n * this.p('s3.standard.put'));
      } else if (op === 'S3:GetObject' || op === 'S3:HeadObject') {
        // The Part 10 object in its class; the DICOM JSON and manifests stay in Standard.
        const inTier = (tx === 'retrieve' || tx === 'send') && from === 'glacier-ir' && bytes > TIERED_OBJECT_MIN_BYTES;
        bill.add('S3', 'GET requests', n * (inTier ? this.p('s3.glacierIr.get') : this.p('s3.standard.get')));
      }
    }
    const ia = this.input.tiering.tableClass === 'standard-ia' ? 'standardIa' : 'standard';
    bill.add('DynamoDB', 'write request units', count * measured.dynamodbWriteUnits * this.p(`dynamodb.${ia}.writeUnit`));
    bill.add('DynamoDB', 'read request units', count * measured.dynamodbReadUnits * this.p(`dynamodb.${ia}.readUnit`));

    if ((tx === 'retrieve' || tx === 'send') && from === 'glacier-ir' && bytes > TIERED_OBJECT_MIN_BYTES) {
      bill.add('S3', 'Glacier IR retrieval', ((count * bytes) / GB) * this.p('s3.glacierIr.retrievalGb'));
    }
    if (tx === 'send') {
      const { transitionsPerSend, transitionsPerBatch, batchSize } = this.input.measured.stepFunctions;
      const sends = count / perStudy;
      const transitions = sends * transitionsPerSend + Math.ceil(perStudy / batchSize) * sends * transitionsPerBatch;
      bill.add('Step Functions', 'state transitions', transitions * this.p('sfn.standard.transition'));
    }
    if (this.input.egress && (tx === 'retrieve' || tx === 'send')) {
      bill.add('Data transfer', 'out to the internet', ((count * bytes) / GB) * this.p('transfer.internetOutGb'));
    }
    return bill;
  }

  /**
   * The share of month `month` (0 = the month an object was made) it spends in each class, by the
   * lifecycle rule (glacier-ir: from `instanceTierAfterDays`) or S3 Intelligent-Tiering (frequent,
   * infrequent after 30 days without access, archive instant after 90, counted from the transition),
   * for an object not read after its first month.
   */
  classesInMonth(month: number, bytes: number): [ObjectClass, number][] {
    const { instanceTier, instanceTierAfterDays: after } = this.input.tiering;
    if (instanceTier === 'none' || bytes <= TIERED_OBJECT_MIN_BYTES) return [['standard', 1]];
    const start = month * MONTH_DAYS;
    const end = start + MONTH_DAYS;
    const share = (from: number, to: number) => Math.max(0, Math.min(end, to) - Math.max(start, from)) / MONTH_DAYS;
    const shares: [ObjectClass, number][] =
      instanceTier === 'glacier-ir'
        ? [
            ['standard', share(0, after)],
            ['glacier-ir', share(after, Infinity)],
          ]
        : [
            ['standard', share(0, after)],
            ['it-frequent', share(after, after + 30)],
            ['it-infrequent', share(after + 30, after + 90)],
            ['it-archive-instant', share(after + 90, Infinity)],
          ];
    return shares.filter(([, s]) => s > 0);
  }

  /** The class an object is in at the middle of month `month` (what a read that month reads from). */
  classAt(month: number, bytes: number): ObjectClass {
    const classes = this.classesInMonth(month, bytes);
    return classes.reduce((best, c) => (c[1] > best[1] ? c : best), classes[0]!)[0];
  }

  /** One month of storage of `count` instances of `bytes` in their `month`-th month. */
  storageMonth(count: number, bytes: number, month: number): Bill {
    const bill = new Bill();
    const gb = (count * bytes) / GB;
    const price: Record<ObjectClass, string> = {
      standard: 's3.standard.gbMonth',
      'glacier-ir': 's3.glacierIr.gbMonth',
      'it-frequent': 's3.intelligentTiering.frequentGbMonth',
      'it-infrequent': 's3.intelligentTiering.infrequentGbMonth',
      'it-archive-instant': 's3.intelligentTiering.archiveInstantGbMonth',
    };
    for (const [cls, share] of this.classesInMonth(month, bytes)) {
      bill.add('S3', `storage, ${cls === 'standard' ? 'Standard' : cls}`, gb * share * this.p(price[cls]));
      if (cls.startsWith('it-'))
        bill.add('S3', 'Intelligent-Tiering monitoring', count * share * this.p('s3.intelligentTiering.monitoringObjectMonth'));
    }
    // The transition, in the month it happens.
    const { instanceTier, instanceTierAfterDays: after } = this.input.tiering;
    if (instanceTier !== 'none' && bytes > TIERED_OBJECT_MIN_BYTES && after >= month * MONTH_DAYS && after < (month + 1) * MONTH_DAYS) {
      bill.add(
        'S3',
        'lifecycle transitions',
        count * this.p(instanceTier === 'glacier-ir' ? 's3.glacierIr.transition' : 's3.intelligentTiering.transition'),
      );
    }
    const { metadataObjectBytes, indexBytes, gsiBytes } = this.input.measured.calls;
    bill.add('S3', 'storage, Standard (DICOM JSON)', ((count * metadataObjectBytes) / GB) * this.p('s3.standard.gbMonth'));
    const table = this.input.tiering.tableClass === 'standard-ia' ? 'dynamodb.standardIa.gbMonth' : 'dynamodb.standard.gbMonth';
    bill.add('DynamoDB', 'storage, table', ((count * indexBytes) / GB) * this.p(table));
    bill.add('DynamoDB', 'storage, GSI copies', ((count * gsiBytes) / GB) * this.p(table));
    // Point-in-time recovery bills the table's size; GSIs are rebuilt from it, not backed up.
    bill.add('DynamoDB', 'point-in-time recovery', ((count * indexBytes) / GB) * this.p('dynamodb.pitr.gbMonth'));
    return bill;
  }

  /**
   * Deleting `count` instances in their `month`-th month: the Delete requests, and their object
   * versions kept `noncurrentVersionDays` more (the bucket is versioned).
   */
  deletion(count: number, bytes: number, month: number, instancesPerStudy: number): Bill {
    const bill = this.transaction('delete', count, bytes, { instancesPerStudy });
    const kept = this.input.tiering.noncurrentVersionDays / MONTH_DAYS;
    const versions = this.storageMonth(count, bytes, month);
    for (const l of versions.lines())
      if (l.service === 'S3' && l.item.startsWith('storage')) bill.add('S3', 'noncurrent versions', l.usd * kept);
    return bill;
  }
}
