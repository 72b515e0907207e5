/** In-memory NpiIndex for unit tests of pure logic (never on the production path). */
import { compareNpi } from '../../lambdas/storage/npi-index';
import type { NpiEntry, NpiIndex, PutNpiOutcome } from '../../lambdas/storage/ports';

export class MemoryNpiIndex implements NpiIndex {
  readonly entries = new Map<string, NpiEntry>();

  async putInstance(entry: NpiEntry): Promise<PutNpiOutcome> {
    const key = `${entry.category}/${entry.sopInstanceUID}`;
    const existing = this.entries.get(key);
    if (existing) return compareNpi(existing, entry);
    this.entries.set(key, structuredClone(entry));
    return { outcome: 'created' };
  }

  async getInstance(category: string, sopInstanceUID: string): Promise<NpiEntry | undefined> {
    return this.entries.get(`${category}/${sopInstanceUID}`);
  }

  async *query(category: string): AsyncIterable<NpiEntry> {
    for (const entry of [...this.entries.values()].filter((e) => e.category === category)) yield entry;
  }
}
