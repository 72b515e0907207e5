/**
 * npm run cost: what the archive costs in AWS, offline, from the figures the bench measured last
 * (docs/cost/measured.json) and a dated, cited price table (docs/cost/prices-us-east-1.json), for the
 * workloads of docs/cost.md (lib/cost/). Prints the tables as markdown; --write-docs puts them into
 * docs/cost.md between its markers.
 *   npm run cost
 *   npm run cost -- --prices my-prices.json --instance-tier intelligent-tiering --no-egress
 *   npm run cost -- --write-docs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readMeasured } from '../cost/measured';
import { DEFAULT_ASSUMPTIONS } from '../cost/model';
import { readPrices } from '../cost/prices';
import { costMarkdown } from '../cost/report';
import { DEFAULT_STORAGE_TIERING, INSTANCE_TIERS, TABLE_CLASSES, type InstanceTier, type IndexTableClass } from '../cost/tiering';
import { parseOptions } from './args';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const DOCS_BEGIN = '<!-- cost:begin (written by npm run cost -- --write-docs) -->';
export const DOCS_END = '<!-- cost:end -->';

const USAGE = `Usage: npm run cost -- [--prices FILE] [--measured FILE] [--instance-tier ${INSTANCE_TIERS.join('|')}]
  [--instance-tier-after-days N] [--noncurrent-version-days N] [--table-class ${TABLE_CLASSES.join('|')}] [--no-egress] [--write-docs]`;

export class CostUsageError extends Error {}

export interface CostIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], io: CostIo, root = ROOT): number {
  try {
    const v = parseOptions(
      argv,
      {
        prices: { type: 'string', default: 'docs/cost/prices-us-east-1.json' },
        measured: { type: 'string', default: 'docs/cost/measured.json' },
        'instance-tier': { type: 'string', default: DEFAULT_STORAGE_TIERING.instanceTier },
        'instance-tier-after-days': { type: 'string' },
        'noncurrent-version-days': { type: 'string', default: String(DEFAULT_STORAGE_TIERING.noncurrentVersionDays) },
        'table-class': { type: 'string', default: DEFAULT_STORAGE_TIERING.tableClass },
        'no-egress': { type: 'boolean', default: false },
        'write-docs': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      (m) => new CostUsageError(m),
    );
    if (v.help) {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const tier = v['instance-tier']!;
    if (!(INSTANCE_TIERS as readonly string[]).includes(tier))
      throw new CostUsageError(`--instance-tier: one of ${INSTANCE_TIERS.join(', ')}`);
    const tableClass = v['table-class']!;
    if (!(TABLE_CLASSES as readonly string[]).includes(tableClass))
      throw new CostUsageError(`--table-class: one of ${TABLE_CLASSES.join(', ')}`);
    const days = (name: string, text: string | undefined, fallback: number) => {
      if (text === undefined) return fallback;
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) throw new CostUsageError(`--${name}: a whole number of days`);
      return n;
    };
    const pricesFile = v.prices!;
    const measuredFile = v.measured!;
    const markdown = costMarkdown({
      prices: readPrices(path.resolve(root, pricesFile)),
      measured: readMeasured(path.resolve(root, measuredFile)),
      tiering: {
        instanceTier: tier as InstanceTier,
        instanceTierAfterDays: days(
          'instance-tier-after-days',
          v['instance-tier-after-days'],
          tier === 'intelligent-tiering' ? 0 : DEFAULT_STORAGE_TIERING.instanceTierAfterDays,
        ),
        noncurrentVersionDays: days('noncurrent-version-days', v['noncurrent-version-days'], DEFAULT_STORAGE_TIERING.noncurrentVersionDays),
        tableClass: tableClass as IndexTableClass,
      },
      assumptions: DEFAULT_ASSUMPTIONS,
      egress: !v['no-egress'],
      pricesFile,
      measuredFile,
    });
    io.stdout.write(`${markdown}\n`);
    if (v['write-docs']) {
      const docs = path.join(root, 'docs/cost.md');
      const text = readFileSync(docs, 'utf8');
      const begin = text.indexOf(DOCS_BEGIN);
      const end = text.indexOf(DOCS_END);
      if (begin < 0 || end < begin) throw new Error(`docs/cost.md has no ${DOCS_BEGIN} ... ${DOCS_END} block`);
      writeFileSync(docs, `${text.slice(0, begin + DOCS_BEGIN.length)}\n\n${markdown}\n\n${text.slice(end)}`);
      io.stderr.write('docs/cost.md: the generated tables were rewritten\n');
    }
    return 0;
  } catch (err) {
    io.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof CostUsageError) io.stderr.write(`${USAGE}\n`);
    return err instanceof CostUsageError ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
}
