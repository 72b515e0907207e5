/**
 * The tables of `npm run bench`: the archive beside Orthanc with their ratio, and the archive's
 * cloud cost drivers against their targets; as text for the terminal and as Markdown for
 * docs/performance.md.
 */

/** One measure of both servers. `better` says which way the target (at or above Orthanc) points. */
export interface ComparisonRow {
  readonly measure: string;
  readonly unit: string;
  readonly archive?: number;
  readonly orthanc?: number;
  readonly better: 'higher' | 'lower';
  /** Shown after the figures, e.g. latencies or why the ratio is not like for like. */
  readonly detail?: { readonly archive?: string; readonly orthanc?: string };
  /** Footnote mark, explained below the table. */
  readonly note?: string;
}

/** One cost driver of the archive against its target. */
export interface CostRow {
  readonly measure: string;
  readonly value: string;
  readonly target: string;
  /** Undefined when there is no target to meet. */
  readonly met?: boolean;
}

/** archive / Orthanc; undefined when either is missing or Orthanc's is zero. */
export function ratio(row: ComparisonRow): number | undefined {
  if (row.archive === undefined || row.orthanc === undefined || row.orthanc === 0) return undefined;
  return row.archive / row.orthanc;
}

/** Whether the archive meets the target of being at or above Orthanc (at or below, for latency). */
export function meetsTarget(row: ComparisonRow): boolean | undefined {
  const r = ratio(row);
  if (r === undefined) return undefined;
  return row.better === 'higher' ? r >= 1 : r <= 1;
}

/** Three significant digits, without exponent notation for the magnitudes a bench prints. */
export function figure(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.min(digits, 3), minimumFractionDigits: 0 });
}

const mark = (met: boolean | undefined) => (met === undefined ? '' : met ? 'yes' : 'NO');

function cells(row: ComparisonRow): string[] {
  const r = ratio(row);
  const value = (v: number | undefined, d?: string) => (v === undefined ? '–' : `${figure(v)} ${row.unit}${d ? ` (${d})` : ''}`);
  return [
    `${row.measure}${row.note ? ` ${row.note}` : ''}`,
    value(row.archive, row.detail?.archive),
    value(row.orthanc, row.detail?.orthanc),
    r === undefined ? '–' : `${figure(r)}x`,
    mark(meetsTarget(row)),
  ];
}

const COMPARISON_HEADER = ['Measure', 'Archive', 'Orthanc', 'Archive / Orthanc', 'Target met'];
const COST_HEADER = ['Cost driver (archive)', 'Value', 'Target', 'Met'];
const costCells = (row: CostRow) => [row.measure, row.value, row.target, mark(row.met)];

/** A plain-text table with columns padded to their widest cell. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (r: readonly string[]) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

export function comparisonText(rows: readonly ComparisonRow[]): string {
  return textTable(COMPARISON_HEADER, rows.map(cells));
}
export function comparisonMarkdown(rows: readonly ComparisonRow[]): string {
  return markdownTable(COMPARISON_HEADER, rows.map(cells));
}
export function costText(rows: readonly CostRow[]): string {
  return textTable(COST_HEADER, rows.map(costCells));
}
export function costMarkdown(rows: readonly CostRow[]): string {
  return markdownTable(COST_HEADER, rows.map(costCells));
}

export const GENERATED_BEGIN = '<!-- bench:begin (written by npm run bench) -->';
export const GENERATED_END = '<!-- bench:end -->';

/** The markers of the block the large-instance section writes on its own (`--sections large`). */
export const LARGE_MARKERS = {
  begin: '<!-- bench:large:begin (written by npm run bench -- --sections large) -->',
  end: '<!-- bench:large:end -->',
} as const;

/**
 * The document with the text between the generated markers replaced by `generated`; hand-written
 * text around them is kept. A document without the markers gets them appended.
 */
export function replaceGenerated(
  document: string,
  generated: string,
  markers: { readonly begin: string; readonly end: string } = { begin: GENERATED_BEGIN, end: GENERATED_END },
): string {
  const block = `${markers.begin}\n${generated.trim()}\n${markers.end}`;
  const begin = document.indexOf(markers.begin);
  const end = document.indexOf(markers.end);
  if (begin < 0 || end < begin) return `${document.trimEnd()}${document.trim() ? '\n\n' : ''}${block}\n`;
  return document.slice(0, begin) + block + document.slice(end + markers.end.length);
}
