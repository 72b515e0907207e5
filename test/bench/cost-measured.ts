/**
 * The figures `npm run cost` prices (docs/cost/measured.json, lib/cost/measured.ts), measured in the
 * cost worker's process (./cost-worker.ts `measured`): the handlers on the AWS adapters over the
 * emulators, every S3 and DynamoDB call recorded with its input. Per ~40 KB instance stored (ten per
 * request into a new series), retrieved, retrieved as metadata, sent and deleted (the study), and per
 * search: requests by `Service:Operation`, DynamoDB write and read request units as DynamoDB bills
 * them (the sizes of the items written, and of their copies in the GSIs they are projected into), and the bytes
 * an instance leaves stored (its DICOM JSON object, its index items in the table and the GSIs).
 */
import type { RecordedAwsCall } from '../../lambdas/storage/call-recorder';
import { GLOBAL_SECONDARY_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY, type GsiSpec } from '../../lambdas/storage/table-schema';
import { newUid } from '../../lambdas/dicom/uid';
import type { MeasuredTransaction } from '../../lib/cost/measured';
import { makeInstance } from '../support/dicom-factory';
import { startFakeDestination } from '../support/fake-destination';
import { stowBody } from '../support/http';

export interface Answer {
  readonly status: number;
  readonly text: string;
}

export interface MeasureContext {
  readonly recorded: RecordedAwsCall[];
  readonly invoke: (method: string, target: string, headers?: Record<string, string>, body?: Buffer) => Promise<Answer>;
  readonly writeDestinations: (url: string) => void;
  readonly runAsSend: <T>(fn: () => Promise<T>) => Promise<T>;
}

const AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';

/** DynamoDB's size of an attribute value (DynamoDB developer guide, "Item sizes"), native or marshalled. */
function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint') return Math.ceil(String(v).replace(/[-.]/g, '').length / 2) + 1;
  if (v instanceof Uint8Array) return v.length;
  if (v instanceof Set) return [...v].reduce((n: number, x) => n + valueSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + valueSize(x), 0);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && ['S', 'N', 'B', 'BOOL', 'NULL', 'SS', 'NS', 'L', 'M'].includes(keys[0]!)) {
      const [k] = keys;
      if (k === 'N') return valueSize(Number(o.N));
      if (k === 'M') return 3 + itemSize(o.M as Record<string, unknown>);
      return valueSize(k === 'SS' || k === 'NS' ? new Set(o[k!] as unknown[]) : o[k!]);
    }
    return 3 + keys.length + itemSize(o);
  }
  return 1;
}

export function itemSize(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((n, [k, v]) => (v === undefined ? n : n + Buffer.byteLength(k) + valueSize(v)), 0);
}

/** The GSIs an item is written to: those whose partition key it carries. */
function gsisOf(item: Record<string, unknown>): GsiSpec[] {
  return GLOBAL_SECONDARY_INDEXES.filter((g) => item[g.partitionKey] !== undefined);
}

/** The attributes a GSI copies of an item: the table's and its own keys, and what its projection includes. */
function projected(gsi: GsiSpec): Set<string> {
  const included = gsi.projection.type === 'INCLUDE' ? gsi.projection.nonKeyAttributes : [];
  return new Set([TABLE_PARTITION_KEY, TABLE_SORT_KEY, gsi.partitionKey, gsi.sortKey, ...included]);
}

/** The size of an item's copy in a GSI (table-schema.ts projections). */
function projectedSize(item: Record<string, unknown>, gsi: GsiSpec): number {
  const keep = projected(gsi);
  return itemSize(Object.fromEntries(Object.entries(item).filter(([k]) => keep.has(k))));
}

/** The attribute names an UpdateItem's UpdateExpression sets (through its #names). */
function updatedAttributes(input: Record<string, any>): string[] {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  return [...String(input.UpdateExpression ?? '').matchAll(/#\w+/g)].map((m) => names[m[0]] ?? m[0]);
}

/**
 * Write units of the recorded writes: a put costs ceil(size / 1 KB) in the table and ceil(size of its
 * copy / 1 KB) in each GSI it is projected into (table-schema.ts: keys, and ByLevel's few included
 * attributes); an update 1 unit for the table, and 1 for each GSI of an index entry (PK STUDY#, SK
 * #STUDY / SERIES# / INSTANCE#) that projects an attribute it sets (none: counters are not
 * projected); a delete 1 for the table and 1 for each GSI of an index entry or name term (NAME#, in
 * ByLevel). Read units: 0.5 per eventually consistent read of an item up to 4 KB, 1 when strongly
 * consistent; a Query or BatchGetItem counts the items it asked for or, for a Query, one page.
 */
function requestUnits(calls: readonly RecordedAwsCall[]): { write: number; read: number; tableBytes: number; gsiBytes: number } {
  let write = 0;
  let read = 0;
  let tableBytes = 0;
  let gsiBytes = 0;
  const put = (item: Record<string, unknown>) => {
    const size = itemSize(item);
    write += Math.ceil(size / 1024);
    // DynamoDB bills 100 bytes of overhead per item, and per GSI copy.
    tableBytes += size + 100;
    for (const gsi of gsisOf(item)) {
      const copy = projectedSize(item, gsi);
      write += Math.ceil(copy / 1024);
      gsiBytes += copy + 100;
    }
  };
  const entrySk = /^(#STUDY|SERIES#|INSTANCE#)/;
  const skOf = (key: Record<string, unknown> | undefined) => String((key?.SK as { S?: string } | undefined)?.S ?? key?.SK ?? '');
  const updated = (input: Record<string, any>) => {
    const sets = updatedAttributes(input);
    const gsis = entrySk.test(skOf(input.Key)) ? GLOBAL_SECONDARY_INDEXES.filter((g) => sets.some((a) => projected(g).has(a))) : [];
    write += 1 + gsis.length;
  };
  const deleted = (key: Record<string, unknown> | undefined) => {
    const sk = skOf(key);
    write += 1 + (entrySk.test(sk) ? GLOBAL_SECONDARY_INDEXES.length : sk.startsWith('NAME#') ? 1 : 0);
  };
  for (const c of calls) {
    if (c.service !== 'DynamoDB') continue;
    const input = c.input as Record<string, any>;
    const consistent = input.ConsistentRead === true ? 1 : 0.5;
    switch (c.operation) {
      case 'PutItem':
        put(input.Item);
        break;
      case 'UpdateItem':
        updated(input);
        break;
      case 'DeleteItem':
        deleted(input.Key);
        break;
      case 'BatchWriteItem':
        for (const requests of Object.values(input.RequestItems ?? {}) as Record<string, any>[][]) {
          for (const r of requests) {
            if (r.PutRequest) put(r.PutRequest.Item);
            else deleted(r.DeleteRequest?.Key);
          }
        }
        break;
      case 'GetItem':
        read += consistent;
        break;
      case 'BatchGetItem':
        for (const t of Object.values(input.RequestItems ?? {}) as Record<string, any>[]) read += (t.Keys?.length ?? 1) * consistent;
        break;
      case 'Query':
        read += consistent;
        break;
    }
  }
  return { write, read, tableBytes, gsiBytes };
}

/** Calls per instance by `Service:Operation`, and the DynamoDB request units, of `calls` over `instances`. */
function perInstance(calls: readonly RecordedAwsCall[], instances: number): MeasuredTransaction {
  const requests: Record<string, number> = {};
  for (const c of calls) {
    if (c.service !== 'S3' && c.service !== 'DynamoDB' && c.service !== 'SFN') continue;
    const key = `${c.service}:${c.operation}`;
    requests[key] = (requests[key] ?? 0) + 1 / instances;
  }
  const units = requestUnits(calls);
  const round = (n: number) => Math.round(n * 1e4) / 1e4;
  for (const k of Object.keys(requests)) requests[k] = round(requests[k]!);
  return { requests, dynamodbWriteUnits: round(units.write / instances), dynamodbReadUnits: round(units.read / instances) };
}

export interface MeasuredCalls {
  readonly instanceBytes: number;
  readonly transactions: Record<'store' | 'retrieve' | 'metadata' | 'search' | 'send' | 'delete', MeasuredTransaction>;
  /** Bytes stored per instance besides its Part 10 file: its DICOM JSON object, its index items in the table and their GSI copies. */
  readonly metadataObjectBytes: number;
  readonly indexBytes: number;
  readonly gsiBytes: number;
}

/** The workloads, `count` ~40 KB instances each (a study of one series). */
export async function measureCalls(ctx: MeasureContext, count: number): Promise<MeasuredCalls> {
  const { recorded, invoke } = ctx;
  const record = async (fn: () => Promise<unknown>) => {
    recorded.length = 0;
    await fn();
    return [...recorded];
  };
  const expect = (answer: Answer, ...status: number[]) => {
    if (!status.includes(answer.status)) throw new Error(`answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return answer;
  };
  const instanceBytes = 40_000;
  const uids = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
  const patientID = `COST-MODEL-${newUid().slice(-6)}`;
  const sops = Array.from({ length: count }, () => newUid());
  const files = sops.map((sopInstanceUID) => makeInstance({ ...uids, sopInstanceUID, patientID, approximateBytes: instanceBytes }));

  const stored = await record(async () => {
    for (let i = 0; i < files.length; i += 10) {
      const { body, contentType } = stowBody(files.slice(i, i + 10));
      expect(await invoke('POST', '/studies', { 'Content-Type': contentType }, body), 200);
    }
  });
  const metadataPuts = stored.filter((c) => c.operation === 'PutObject' && String(c.input.Key).endsWith('.json'));
  const metadataObjectBytes =
    metadataPuts.reduce((n, c) => n + ((c.input.Body as Uint8Array | string | undefined)?.length ?? 0), 0) / metadataPuts.length;

  const path = (sop: string) => `/studies/${uids.studyInstanceUID}/series/${uids.seriesInstanceUID}/instances/${sop}`;
  const retrieved = await record(async () => {
    for (const sop of sops) expect(await invoke('GET', path(sop), { Accept: AS_STORED }), 200);
  });
  const metadata = await record(async () => {
    for (const sop of sops) expect(await invoke('GET', `${path(sop)}/metadata`, { Accept: 'application/dicom+json' }), 200);
  });
  const searches = 10;
  const searched = await record(async () => {
    for (let i = 0; i < searches; i++)
      expect(await invoke('GET', `/studies?PatientID=${patientID}&limit=100`, { Accept: 'application/dicom+json' }), 200);
  });

  const destination = await startFakeDestination();
  let sent: RecordedAwsCall[];
  try {
    ctx.writeDestinations(destination.url);
    const send = `/studies/send-requests/${newUid()}`;
    const search = `destination=${encodeURIComponent(destination.url)}&StudyInstanceUID=${uids.studyInstanceUID}`;
    sent = await record(() =>
      ctx.runAsSend(async () => {
        let answer = await invoke('POST', `${send}?${search}`, { Accept: 'application/dicom+json' });
        while (answer.status === 202) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          answer = await invoke('GET', send, { Accept: 'application/dicom+json' });
        }
        expect(answer, 200);
      }),
    );
    if (destination.stored.length !== count) throw new Error(`the destination stored ${destination.stored.length} of ${count}`);
  } finally {
    await destination.close();
  }
  // The Send function's reads of its request's progress follow the clock, not the instances (note [r]).
  sent = sent.filter((c) => c.caller !== 'send' || c.operation !== 'GetItem');

  const deleted = await record(async () => expect(await invoke('DELETE', `/studies/${uids.studyInstanceUID}`), 204));

  const storeUnits = requestUnits(stored);
  return {
    instanceBytes,
    transactions: {
      store: perInstance(stored, count),
      retrieve: perInstance(retrieved, count),
      metadata: perInstance(metadata, count),
      search: perInstance(searched, searches),
      send: perInstance(sent, count),
      delete: perInstance(deleted, count),
    },
    metadataObjectBytes: Math.round(metadataObjectBytes),
    indexBytes: Math.round(storeUnits.tableBytes / count),
    gsiBytes: Math.round(storeUnits.gsiBytes / count),
  };
}
