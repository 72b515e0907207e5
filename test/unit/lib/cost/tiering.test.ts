/**
 * Unit: the storage tiering defaults (lib/cost/tiering.ts) are the ones docs/configuration.md and
 * docs/cost.md state, so a changed default or a stale row fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_STORAGE_TIERING, TIERED_OBJECT_MIN_BYTES } from '../../../../lib/cost/tiering';

const read = (doc: string) => readFileSync(path.join(__dirname, '../../../../docs', doc), 'utf8');

/** The default cell of the table row naming option `name` (its second cell); in cost.md, its tiering section's. */
function defaultOf(doc: string, name: string): string {
  const text = read(doc);
  const section = doc === 'cost.md' ? text.slice(text.indexOf('## Storage tiering')) : text;
  const row = section.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
  if (!row) throw new Error(`${doc}: no row for ${name}`);
  return row.split('|')[2]!.trim();
}

describe('storage tiering defaults in the documents', () => {
  it.each(['configuration.md', 'cost.md'])('%s', (doc) => {
    expect(defaultOf(doc, 'instanceTier')).toBe(`\`${DEFAULT_STORAGE_TIERING.instanceTier}\``);
    expect(defaultOf(doc, 'instanceTierAfterDays')).toMatch(new RegExp(`^${DEFAULT_STORAGE_TIERING.instanceTierAfterDays}\\b`));
    expect(defaultOf(doc, 'noncurrentVersionDays')).toBe(String(DEFAULT_STORAGE_TIERING.noncurrentVersionDays));
    expect(defaultOf(doc, 'tableClass')).toBe(`\`${DEFAULT_STORAGE_TIERING.tableClass}\``);
  });

  it('the size the rule starts above is the 128 KiB both documents name', () => {
    expect(TIERED_OBJECT_MIN_BYTES).toBe(128 * 1024);
    for (const doc of ['configuration.md', 'cost.md']) expect(read(doc)).toContain('128 KiB');
  });
});
