/**
 * The Patient's Name search path of a MetadataIndex (IndexQuery `by: 'name'`, terms of
 * personNameIndexTerms): it finds at every level what reading the whole level finds, reads only the
 * entries with a term starting with the prefix, each once, within a date range, and yields them in
 * result order whatever the page hint. Run on the adapters that index names (DynamoDB on dynalite,
 * SQLite); each adapter's own suite adds what only it can show (requests read, terms stored).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../lambdas/dicom/tags';
import { matchesAll, personNameIndexPrefix } from '../../lambdas/dicomweb/matching';
import { inResultOrder } from '../../lambdas/dicomweb/search';
import { ownUid } from '../../lambdas/storage/dynamodb-items';
import type { IndexEntry, IndexQuery, Level, MetadataIndex } from '../../lambdas/storage/ports';
import { instanceEntry, seriesEntry, studyEntry, uid } from './metadata-index.contract';

export const NAME_LEVELS: readonly Level[] = ['STUDY', 'SERIES', 'INSTANCE'];

/** One study with one series and one instance, the same name on all three entries. */
export interface NamedStudy {
  readonly label: string;
  readonly study: string;
  readonly series: string;
  readonly sop: string;
}

/** The entry with this Patient's Name. */
export function named(e: IndexEntry, name: unknown): IndexEntry {
  return { ...e, attributes: { ...e.attributes, [Tag.PatientName]: { vr: 'PN', Value: [name] } } };
}

export async function queryAll(index: MetadataIndex, q: IndexQuery): Promise<IndexEntry[]> {
  const out: IndexEntry[] = [];
  for await (const e of index.query(q)) out.push(e);
  return out;
}

/** Stores a named study, series and instance as STOW stores them. */
export async function storeNamed(index: MetadataIndex, label: string, name: unknown, studyDate = '20240115'): Promise<NamedStudy> {
  const [study, series, sop] = [uid(), uid(), uid()];
  await index.ensureStudy(named(studyEntry(study, studyDate), name));
  await index.ensureSeries(named(seriesEntry(study, series, studyDate), name));
  expect(await index.putInstance(named(instanceEntry(study, series, sop, 'aa'.repeat(32), studyDate), name))).toEqual({
    outcome: 'created',
  });
  return { label, study, series, sop };
}

/** Labels of the stored entries of `q.level` a search path yields, keeping those the key matches. */
export async function nameLabels(
  index: MetadataIndex,
  q: IndexQuery,
  stored: readonly NamedStudy[],
  key?: string,
  fuzzymatching = false,
): Promise<string[]> {
  const uidAt = (s: NamedStudy) => (q.level === 'STUDY' ? s.study : q.level === 'SERIES' ? s.series : s.sop);
  const byUid = new Map(stored.map((s) => [uidAt(s), s.label]));
  const entries = await queryAll(index, q);
  const kept =
    key === undefined
      ? entries
      : entries.filter((e) => matchesAll(e.attributes, [{ tag: Tag.PatientName, value: key }], { fuzzymatching }));
  return kept.flatMap((e) => byUid.get(ownUid(e)) ?? []).sort();
}

export function describeNameQueryContract(name: string, getIndex: () => MetadataIndex): void {
  describe(`${name}: query by 'name' (Patient's Name terms)`, () => {
    let index: MetadataIndex;
    let corpus: NamedStudy[];
    beforeAll(async () => {
      index = getIndex();
      corpus = [
        await storeNamed(index, 'A', { Alphabetic: 'Müller^Hans' }),
        await storeNamed(index, 'B', 'MULLER^JOHN'),
        await storeNamed(index, 'C', { Alphabetic: 'van der Berg^Anna' }, '20230301'),
        await storeNamed(index, 'D', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }),
        await storeNamed(index, 'E', { Alphabetic: 'Smith^Mullerina' }),
        await storeNamed(index, 'F', { Alphabetic: 'Strauß^Ødegård' }),
      ];
    });

    it('finds at every level exactly what reading the whole level finds, for wildcard, exact and fuzzy keys', async () => {
      const cases: [key: string, fuzzy: boolean, expected: string[]][] = [
        ['Mül*', false, ['A']],
        ['MUL*', false, ['B']],
        ['müller^hans', false, ['A']],
        ['MULLER^JOHN', false, ['B']],
        ['muller', true, ['A', 'B', 'E']],
        ['MÜLL*', true, ['A', 'B', 'E']],
        ['hans', true, ['A']],
        ['berg', true, ['C']],
        ['van der*', false, ['C']],
        ['山田*', false, ['D']],
        ['=山田^太郎', false, ['D']],
        ['strauß', true, ['F']],
        ['ØDEGARD', true, ['F']],
        ['odegard', true, []], // Ø is a letter of its own, not O with a mark (NFD keeps it)
        ['Strauss*', false, []],
      ];
      for (const level of NAME_LEVELS) {
        for (const [key, fuzzy, expected] of cases) {
          const prefix = personNameIndexPrefix(key, fuzzy)!;
          expect(prefix, key).toBeDefined();
          const viaName = await nameLabels(index, { by: 'name', level, prefix }, corpus, key, fuzzy);
          expect(viaName, `${level} ${key}`).toEqual(await nameLabels(index, { by: 'level', level }, corpus, key, fuzzy));
          expect(viaName, `${level} ${key}`).toEqual(expected);
        }
      }
    });

    it('reads only the entries with a term starting with the prefix, each once, within the date range', async () => {
      for (const level of NAME_LEVELS) {
        // E has 'mullerina' as its given name; A and B match 'mul' by family name.
        expect(await nameLabels(index, { by: 'name', level, prefix: 'mul' }, corpus)).toEqual(['A', 'B', 'E']);
        expect(await nameLabels(index, { by: 'name', level, prefix: 'van' }, corpus)).toEqual(['C']);
        expect(await nameLabels(index, { by: 'name', level, prefix: 'van', dateRange: { from: '20240101' } }, corpus)).toEqual([]);
        expect(await nameLabels(index, { by: 'name', level, prefix: 'van', dateRange: { to: '20230301' } }, corpus)).toEqual(['C']);
      }
    });

    it('yields name matches in result order, page by page, whatever the page hint', async () => {
      const family = `Ordered${Date.now()}`;
      const dates = ['20240105', '20230101', '', '20240301', '20240105', '20220610', '20241231', '20240229', '', '20240102'];
      const stored: IndexEntry[] = [];
      for (const date of dates) {
        const entry = named(instanceEntry(uid(), uid(), uid(), undefined, date), { Alphabetic: `${family}^X` });
        await index.putInstance(entry);
        stored.push(entry);
      }
      const expected = [...stored].sort(inResultOrder).map((e) => e.sopInstanceUID);
      for (const pageHint of [undefined, 0, 2, 50]) {
        const found = await queryAll(index, { by: 'name', level: 'INSTANCE', prefix: family.toLowerCase(), pageHint });
        expect(found.map((e) => e.sopInstanceUID)).toEqual(expected);
        // Most recent first, entries without a Study Date last.
        expect(found[0]!.studyDate).toBe('20241231');
        expect(found.slice(-2).map((e) => e.studyDate)).toEqual(['', '']);
      }
    });
  });
}
