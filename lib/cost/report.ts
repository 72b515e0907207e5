/**
 * The tables `npm run cost` prints and writes into docs/cost.md (between its `cost:begin` and
 * `cost:end` markers): every workload of ./workloads.ts and the idle deployment on this archive,
 * itemised; the same workloads on the alternatives (./managed.ts); the storage tiers side by side.
 */
import { idleMonth } from './idle';
import { azureDicom, googleHealthcare, GP3_MAX_GB, healthImaging, monthlyUsage, orthancVm, studyUsage, type Usage } from './managed';
import { type Bill, CostModel, DEFAULT_ASSUMPTIONS, GB, type ModelInput } from './model';
import type { StorageTiering } from './tiering';
import {
  CT_STUDY,
  HOSPITAL,
  monthlyBytes,
  MR_STUDY,
  retainedBytes,
  steadyMonth,
  storeInstances,
  studyLifetime,
  TELERADIOLOGY,
} from './workloads';

const usd = (n: number) =>
  n >= 100
    ? `$${Math.round(n).toLocaleString('en-US')}`
    : n >= 1
      ? `$${n.toFixed(2)}`
      : n >= 0.01
        ? `$${n.toFixed(3)}`
        : `$${n.toPrecision(2)}`;
const gb = (bytes: number) => `${(bytes / GB).toLocaleString('en-US', { maximumFractionDigits: 1 })} GB`;

/** A workload's bill on this archive and its usage for the alternatives. */
interface Row {
  readonly title: string;
  readonly bill: Bill;
  readonly usage: Usage;
  /** Months of an Orthanc VM the row includes (0: a share of a VM, not counted). */
  readonly vmMonths: number;
  readonly note?: string;
}

function rows(model: CostModel): Row[] {
  const perRequest = (bytes: number) => 1 / model.instancesPerStoreRequest(bytes);
  const thousand = storeInstances(model, 1000, 500_000);
  const stored = thousand.store;
  stored.addAll(thousand.month);
  const oneMonth = studyUsage({ label: '1,000 instances', instances: 1000, instanceBytes: 500_000 }, perRequest, 1, 0, 0);
  return [
    {
      title: '1,000 instances of 0.5 MB stored, and their first month',
      bill: stored,
      usage: oneMonth,
      vmMonths: 0,
    },
    ...[CT_STUDY, MR_STUDY].map((s) => ({
      title: `${s.label}: stored, kept a year, retrieved twice, sent once`,
      bill: studyLifetime(model, s),
      usage: studyUsage(s, perRequest),
      vmMonths: 0,
    })),
    ...[TELERADIOLOGY, HOSPITAL].map((w) => ({
      title: `${w.title}: a month once full (${gb(monthlyBytes(w))} a month, ${gb(retainedBytes(w))} held)`,
      bill: steadyMonth(model, w),
      usage: monthlyUsage(w, perRequest),
      vmMonths: 1,
      note: retainedBytes(w) / GB > GP3_MAX_GB ? 'more than one EBS volume holds' : undefined,
    })),
  ];
}

function itemised(bill: Bill): string[] {
  const lines = ['| Service | Item | Cost |', '|---|---|---|'];
  for (const l of bill.lines().sort((a, b) => b.usd - a.usd)) lines.push(`| ${l.service} | ${l.item} | ${usd(l.usd)} |`);
  lines.push(`| **total** | | **${usd(bill.total())}** |`);
  return lines;
}

function dominant(bill: Bill): string {
  const total = bill.total();
  return [...bill.byService()]
    .slice(0, 2)
    .map(([s, v]) => `${s} ${Math.round((100 * v) / total)} %`)
    .join(', ');
}

export interface ReportInput extends ModelInput {
  readonly measuredFile: string;
  readonly pricesFile: string;
}

/** The markdown of docs/cost.md's generated block. */
export function costMarkdown(input: ReportInput): string {
  const model = new CostModel(input);
  const { prices, measured, tiering } = input;
  const metadataBytes = measured.calls.metadataObjectBytes;
  const out: string[] = [];
  out.push(
    `Priced by \`npm run cost\` with ${input.pricesFile} (${prices.region}, ${prices.currency}, read ${prices.read}) and ${input.measuredFile} ` +
      `(calls measured ${measured.calls.measuredAt.slice(0, 16).replace('T', ' ')} UTC, CPU ${measured.cpu.measuredAt.slice(0, 16).replace('T', ' ')} UTC). ` +
      `Storage tiering: ${tieringText(tiering)}. Transfer out: ${input.egress ? 'retrieved and sent bytes leave AWS' : 'none (clients in AWS or over Direct Connect)'}. No free tier applied.`,
    '',
  );
  const all = rows(model);
  out.push('### This archive beside the alternatives', '');
  out.push(
    "| Workload | This archive | AWS HealthImaging | Google Cloud Healthcare API | Azure DICOM service [u] | Orthanc VM [o] | What dominates this archive's bill |",
  );
  out.push('|---|---|---|---|---|---|---|');
  for (const row of all) {
    // The same transfer assumption for every column: without egress no bytes leave any cloud.
    const r = input.egress ? row : { ...row, usage: { ...row.usage, retrievedGb: 0, sentGb: 0 } };
    const vm = orthancVm(prices, r.usage, r.vmMonths);
    out.push(
      `| ${r.title} | ${usd(r.bill.total())} | ${usd(healthImaging(prices, r.usage).total())} | ${usd(googleHealthcare(prices, r.usage, metadataBytes).total())} | ` +
        `${usd(azureDicom(prices, r.usage, metadataBytes).total())} | ${usd(vm.total())}${r.note ? ` (${r.note})` : ''} | ${dominant(r.bill)} |`,
    );
  }
  out.push(
    '',
    "[u] Azure: Data Lake Storage prices are list prices not verified in the pages searched, transfer out is read in a third-party transcription; the DICOM service's own request and index charges are assumptions (docs/cost/prices-us-east-1.json marks them).  ",
    '[o] Orthanc on one m7g.large with EBS gp3 and snapshots; in the per-study rows without the VM itself (a share of a VM that serves many studies: $' +
      (730 * prices.prices['ec2.m7g.large.hour']!.usd).toFixed(2) +
      ' a month).',
    '',
  );
  out.push('### Idle: a deployment with nothing stored', '');
  for (const dimse of [false, true]) {
    const idle = idleMonth(prices, { waf: true, dimse });
    out.push(
      `${dimse ? 'With the DIMSE gateway (`-c dimse=true`)' : 'Default stack (WAF on, no DIMSE gateway)'}: **${usd(idle.total())} a month**.`,
      '',
    );
    out.push(...itemised(idle), '');
  }
  out.push('### Each workload on this archive, itemised', '');
  for (const r of all) out.push(`**${r.title}**`, '', ...itemised(r.bill), '');
  out.push('### Storage tiers', '');
  out.push('The same months with each `instanceTier`, and with the index in Standard-IA (context options, docs/configuration.md):', '');
  out.push(
    '| Workload | none (S3 Standard) | glacier-ir after 90 days (default) | intelligent-tiering from day 0 | glacier-ir, tableClass standard-ia |',
    '|---|---|---|---|---|',
  );
  for (const w of [TELERADIOLOGY, HOSPITAL]) {
    const at = (t: StorageTiering) => usd(steadyMonth(new CostModel({ ...input, tiering: t }), w).total());
    out.push(
      `| ${w.title} | ${at({ ...tiering, instanceTier: 'none' })} | ${at({ ...tiering, instanceTier: 'glacier-ir', instanceTierAfterDays: 90 })} | ${at({ ...tiering, instanceTier: 'intelligent-tiering', instanceTierAfterDays: 0 })} | ${at({ ...tiering, instanceTier: 'glacier-ir', instanceTierAfterDays: 90, tableClass: 'standard-ia' })} |`,
    );
  }
  out.push('');
  out.push('### Per instance', '');
  out.push('| Transaction | ~0.5 MB instance | billed ms (function) |', '|---|---|---|');
  for (const tx of ['store', 'retrieve', 'metadata', 'send', 'delete'] as const) {
    const bill = model.transaction(tx, 1000, 500_000, { instancesPerStudy: 500 });
    out.push(`| ${tx} | ${usd(bill.total() / 1000)} | ${model.billedMs(tx, 500_000).toFixed(1)} |`);
  }
  out.push(
    `| search (per query) | ${usd(model.transaction('search', 1000, 0).total() / 1000)} | ${model.billedMs('search', 0).toFixed(1)} |`,
    '',
  );
  out.push(`Assumptions beside the measured figures: ${assumptionsText()}.`);
  return out.join('\n');
}

function tieringText(t: StorageTiering): string {
  const tier = t.instanceTier === 'none' ? 'none' : `${t.instanceTier} after ${t.instanceTierAfterDays} days`;
  return `instance objects over 128 KiB ${tier}, noncurrent versions ${t.noncurrentVersionDays} days, table ${t.tableClass}`;
}

function assumptionsText(): string {
  const w = DEFAULT_ASSUMPTIONS.waitMs;
  return (
    `time waiting on S3, DynamoDB and the destination per instance: store ${w.store} ms, retrieve ${w.retrieve}, metadata ${w.metadata}, send ${w.send}, delete ${w.delete}, ` +
    `search ${w.search} per query; CPU of a search ${DEFAULT_ASSUMPTIONS.searchCpuMs} ms, of deleting an instance ${DEFAULT_ASSUMPTIONS.deleteCpuMs} ms; ` +
    `a viewer reads the metadata of ${DEFAULT_ASSUMPTIONS.metadataInstancesPerRequest} instances (a series) per request; ` +
    `${DEFAULT_ASSUMPTIONS.logBytesPerRequest.toLocaleString('en-US')} bytes of logs per request, every request traced by X-Ray (lib/cost/model.ts)`
  );
}
