/**
 * The figures the bench measured last (docs/cost/measured.json, written by `npm run bench` when its
 * `calls` or `cost` section runs; test/bench/cost-measured.ts, cost-worker.ts): what `npm run cost`
 * prices. A section that did not run leaves its part of the file as it was.
 */
import { readFileSync } from 'node:fs';

/** The transactions the model prices: per instance, search per query. */
export const MEASURED_TRANSACTIONS = ['store', 'retrieve', 'metadata', 'search', 'send', 'delete'] as const;
export type MeasuredTransactionName = (typeof MEASURED_TRANSACTIONS)[number];

export interface MeasuredTransaction {
  /** AWS requests per instance (per query for search), by `Service:Operation`, e.g. `S3:PutObject`. */
  readonly requests: Readonly<Record<string, number>>;
  /** DynamoDB request units per instance, as on-demand mode bills them (GSI writes included). */
  readonly dynamodbWriteUnits: number;
  readonly dynamodbReadUnits: number;
}

export interface MeasuredCallsPart {
  readonly measuredAt: string;
  /** The bench command that measured this part. */
  readonly command: string;
  /** The instances of the call workloads (~40 KB). */
  readonly instanceBytes: number;
  readonly transactions: Readonly<Record<MeasuredTransactionName, MeasuredTransaction>>;
  /** Bytes an instance leaves stored besides its Part 10 file: its DICOM JSON object, its index items in the table, their GSI copies. */
  readonly metadataObjectBytes: number;
  readonly indexBytes: number;
  readonly gsiBytes: number;
}

export interface MeasuredCpuPart {
  readonly measuredAt: string;
  readonly command: string;
  /** CPU-ms per instance of a warm function: `store`, `retrieve` at each size; `send` (Send, Resolve, Deliver, Finalize) at the small one. */
  readonly msPerInstance: Readonly<Record<string, number>>;
  /** The instance sizes of `.small` and `.large`. */
  readonly smallBytes: number;
  readonly largeBytes: number;
}

export interface MeasuredFigures {
  readonly calls: MeasuredCallsPart;
  readonly cpu: MeasuredCpuPart;
  /** Memory (MB) and architecture of each function, as deployed (lambdas/http/routes.ts, lib/send-workflow.ts). */
  readonly functions: Readonly<Record<string, { readonly memoryMb: number; readonly architecture: 'arm64' | 'x86_64' }>>;
  /** Step Functions state transitions of one Send: its own states, and each Deliver batch's child execution. */
  readonly stepFunctions: { readonly transitionsPerSend: number; readonly transitionsPerBatch: number; readonly batchSize: number };
}

export function readMeasured(file: string): MeasuredFigures {
  const m = JSON.parse(readFileSync(file, 'utf8')) as MeasuredFigures;
  for (const t of MEASURED_TRANSACTIONS) {
    if (!m.calls?.transactions?.[t]) throw new Error(`${file}: no measured calls of ${t}; run npm run bench -- --sections calls --no-docs`);
  }
  if (!m.cpu?.msPerInstance?.['store.small']) throw new Error(`${file}: no CPU figures; run npm run bench -- --sections cost --no-docs`);
  return m;
}
