/**
 * The price table `npm run cost` applies (docs/cost/prices-us-east-1.json): one region, every price
 * with its unit, its source, the date it was read and whether it was verified there. A user edits the
 * file to price another region or a negotiated rate.
 */
import { readFileSync } from 'node:fs';

export interface Price {
  readonly usd: number;
  /** The unit the price is for: "GB-month", "request", "hour"... */
  readonly per: string;
  readonly source: string;
  /** ISO date the price was read. */
  readonly read: string;
  /** 'yes' read on the provider's page; 'secondary' the provider's figure in a dated transcription; 'unverified' not found. */
  readonly verified: 'yes' | 'secondary' | 'unverified';
  readonly note?: string;
}

export interface PriceTable {
  readonly region: string;
  readonly currency: string;
  readonly read: string;
  readonly prices: Readonly<Record<string, Price>>;
}

export function readPrices(file: string): PriceTable {
  const table = JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
  for (const [key, p] of Object.entries(table.prices ?? {})) {
    if (typeof p.usd !== 'number' || !(p.usd >= 0)) throw new Error(`${file}: ${key}: usd must be a number >= 0`);
    if (!p.source || !p.read) throw new Error(`${file}: ${key}: every price names its source and the date it was read`);
    if (!['yes', 'secondary', 'unverified'].includes(p.verified))
      throw new Error(`${file}: ${key}: verified must be yes, secondary or unverified`);
    // A transcription is only as good as the page that can be re-read: 'secondary' says which.
    if (p.verified === 'secondary' && !/https?:\/\//.test(p.note ?? ''))
      throw new Error(`${file}: ${key}: a secondary price names the page it was read on in its note`);
  }
  return table;
}

/** The price of `key` in USD per its unit; a missing key is an error, never a zero. */
export function priceOf(table: Pick<PriceTable, 'prices'>, key: string): number {
  const p = table.prices[key];
  if (!p) throw new Error(`no price ${key} in the price table`);
  return p.usd;
}
