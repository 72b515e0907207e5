/**
 * Unit: the price table (docs/cost/prices-us-east-1.json, lib/cost/prices.ts) says where each price
 * was read, and docs/cost.md's "Sources and their dates" names every price under the verification
 * the file gives it, so a price re-checked in the file and not in the page (or back) fails here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPrices, type Price } from '../../../../lib/cost/prices';

const ROOT = path.join(__dirname, '../../../..');
const FILE = path.join(ROOT, 'docs/cost/prices-us-east-1.json');
const table = readPrices(FILE);
const entries = Object.entries(table.prices);

/** The price keys docs/cost.md's Sources section names in its bullet for `verified`. */
function sourcesBullet(verified: Price['verified']): string[] {
  const doc = readFileSync(path.join(ROOT, 'docs/cost.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Sources and their dates'));
  const bullets = section.slice(0, section.indexOf('\n## ', 1)).split(/\n(?=- \*\*)/);
  const bullet = bullets.find((b) => b.startsWith(`- **${verified}**`));
  if (!bullet) throw new Error(`docs/cost.md: no Sources bullet for ${verified}`);
  return [...bullet.matchAll(/`([a-z0-9]+(?:\.[A-Za-z0-9_]+)+)`/g)].map((m) => m[1]!).sort();
}

describe('the price table', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('gives every price an ISO read date no later than the table was read', () => {
    for (const [key, p] of entries) {
      expect(p.read, key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.read <= table.read, key).toBe(true);
    }
  });

  it('names the page each price verified by transcription was read on', () => {
    for (const [key, p] of entries.filter(([, p]) => p.verified === 'secondary')) expect(p.note, key).toMatch(/https?:\/\//);
  });

  it('refuses a secondary price that names no page', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prices-'));
    dirs.push(dir);
    const file = path.join(dir, 'prices.json');
    const price = {
      usd: 1,
      per: 'GB',
      source: 'https://example.com/pricing',
      read: '2026-12-07',
      verified: 'secondary',
      note: 'read somewhere',
    };
    writeFileSync(file, JSON.stringify({ region: 'r', currency: 'USD', read: '2026-12-07', prices: { p: price } }));
    expect(() => readPrices(file)).toThrow(/p: .*names the page/);
  });

  it.each(['yes', 'secondary', 'unverified'] as const)('is what docs/cost.md lists as %s', (verified) => {
    const keys = entries.filter(([, p]) => p.verified === verified).map(([k]) => k);
    expect(sourcesBullet(verified)).toEqual(keys.sort());
  });
});
