/**
 * The CloudWatch Logs Insights query that totals the usage lines (lambdas/http/usage-log.ts) per client
 * per month, as docs/cost.md documents it, and a minimal evaluator of the query's own text (its
 * `filter` and its `stats ... by`), so a test runs the documented query on log lines the handlers wrote.
 * Logs Insights syntax: CWL_QuerySyntax-Stats (`bin` takes the unit `mo`).
 */
import { USAGE_EVENT } from '../../lambdas/http/usage-log';

/** Run over the archive's function log groups (`/aws/lambda/...`), the month as the time range. */
export const USAGE_QUERY = [
  `filter event = "${USAGE_EVENT}"`,
  '| stats count(*) as requests, sum(instances) as instances, sum(bytesIn) as bytesIn, sum(bytesOut) as bytesOut, sum(durationMs) as durationMs by client, function, bin(1mo)',
  '| sort client, function',
].join('\n');

/** One log event as Logs Insights sees a JSON line: its fields, and @timestamp. */
export interface LogEvent {
  readonly '@timestamp': Date;
  readonly [field: string]: unknown;
}

type Aggregate = { readonly fn: 'count' | 'sum'; readonly field: string; readonly as: string };

interface ParsedQuery {
  readonly filter: { readonly field: string; readonly value: string };
  readonly aggregates: readonly Aggregate[];
  readonly groupBy: readonly string[];
}

/** Parses the query's `filter field = "value"` and `stats fn(field) as name, ... by a, b, bin(1mo)`. */
export function parseUsageQuery(query: string): ParsedQuery {
  const commands = query.split('|').map((c) => c.trim());
  const filter = /^filter\s+(\w+)\s*=\s*"([^"]*)"$/.exec(commands.find((c) => c.startsWith('filter')) ?? '');
  const stats = /^stats\s+(.+?)\s+by\s+(.+)$/s.exec(commands.find((c) => c.startsWith('stats')) ?? '');
  if (!filter || !stats) throw new Error('the query needs a filter and a stats ... by');
  const aggregates = stats[1]!.split(',').map((a) => {
    const m = /^(count|sum)\(([\w*@]+)\)\s+as\s+(\w+)$/.exec(a.trim());
    if (!m) throw new Error(`unsupported aggregate: ${a.trim()}`);
    return { fn: m[1] as Aggregate['fn'], field: m[2]!, as: m[3]! };
  });
  const groupBy = stats[2]!.split(',').map((g) => g.trim());
  return { filter: { field: filter[1]!, value: filter[2]! }, aggregates, groupBy };
}

/** The fields of the usage lines a query reads: its filter's, its aggregates' and its groups'. */
export function fieldsRead(query: string): string[] {
  const q = parseUsageQuery(query);
  const fields = [q.filter.field, ...q.aggregates.map((a) => a.field), ...q.groupBy];
  return [...new Set(fields.filter((f) => f !== '*' && !f.startsWith('bin(')))];
}

/**
 * The query's rows over `events`: grouped as its `by` says (`bin(1mo)`: the UTC calendar month of
 * @timestamp), each aggregate computed; a missing or non-numeric field adds nothing to a sum.
 */
export function evaluateUsageQuery(query: string, events: readonly LogEvent[]): Record<string, string | number>[] {
  const q = parseUsageQuery(query);
  const rows = new Map<string, Record<string, string | number>>();
  for (const e of events) {
    if (String(e[q.filter.field]) !== q.filter.value) continue;
    const keys = q.groupBy.map((g) => [g, g === 'bin(1mo)' ? e['@timestamp'].toISOString().slice(0, 7) : String(e[g] ?? '')] as const);
    const id = JSON.stringify(keys);
    const row = rows.get(id) ?? Object.fromEntries([...keys, ...q.aggregates.map((a) => [a.as, 0] as const)]);
    rows.set(id, row);
    for (const a of q.aggregates) {
      const value = a.fn === 'count' ? 1 : Number(e[a.field]);
      if (Number.isFinite(value)) row[a.as] = (row[a.as] as number) + value;
    }
  }
  return [...rows.values()];
}
