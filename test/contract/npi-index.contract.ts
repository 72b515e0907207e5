/**
 * The behaviours every NpiIndex promises (lambdas/storage/ports.ts; PS3.18 12): entries per category,
 * read back whole and listed page by page; a conditional put that never overwrites, telling identical
 * content from a conflict. Run against every adapter: the in-memory one of test/support and DynamoDB
 * on dynalite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NpiEntry, NpiIndex } from '../../lambdas/storage/ports';

let counter = 0;
export const uid = () => `2.25.${Date.now()}${++counter}`;

export function entry(category: string, sopInstanceUID: string, digest = 'd1'): NpiEntry {
  return {
    category,
    sopInstanceUID,
    attributes: { '00700080': { vr: 'CS', Value: ['HOT_IRON'] }, '00081030': { vr: 'LO', Value: [''] } },
    instance: {
      sopClassUID: '1.2.840.10008.5.1.4.39.1',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      objectKey: `npi/${category}/${sopInstanceUID}.dcm`,
      metadataKey: `npi/${category}/${sopInstanceUID}.json`,
      size: 123,
      digest,
      numberOfFrames: 0,
    },
  };
}

export async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function describeNpiIndexContract(name: string, make: () => NpiIndex): void {
  describe(`${name} (NpiIndex contract)`, () => {
    let npi: NpiIndex;
    beforeAll(() => {
      npi = make();
    });

    it('puts, gets and queries a category page by page, only its own entries', async () => {
      const sops = Array.from({ length: 5 }, uid);
      for (const sop of sops) expect(await npi.putInstance(entry('color-palettes', sop))).toEqual({ outcome: 'created' });
      await npi.putInstance(entry('hanging-protocols', uid()));

      expect(await npi.getInstance('color-palettes', sops[0]!)).toEqual(entry('color-palettes', sops[0]!));
      expect(await npi.getInstance('hanging-protocols', sops[0]!)).toBeUndefined();
      const found = await all(npi.query('color-palettes'));
      expect(found.map((e) => e.sopInstanceUID).sort()).toEqual([...sops].sort());
      expect(found.every((e) => e.category === 'color-palettes')).toBe(true);
    });

    it('never overwrites: identical content is reported identical, other content conflicts', async () => {
      const sop = uid();
      await npi.putInstance(entry('inventories', sop, 'a'));
      expect((await npi.putInstance(entry('inventories', sop, 'a'))).outcome).toBe('identical');
      const conflict = await npi.putInstance(entry('inventories', sop, 'b'));
      expect(conflict.outcome).toBe('conflict');
      expect((await npi.getInstance('inventories', sop))!.instance.digest).toBe('a');
    });

    it('judges content by the data set digest when both entries carry one, and keeps it', async () => {
      const sop = uid();
      const plain = entry('inventories', sop, 'a');
      const first = { ...plain, instance: { ...plain.instance, datasetDigest: 'c' } };
      await npi.putInstance(first);
      expect(await npi.getInstance('inventories', sop)).toEqual(first);
      const otherFile = { ...first, instance: { ...first.instance, digest: 'b' } };
      expect(await npi.putInstance(otherFile)).toEqual({ outcome: 'identical', existing: first });
      expect((await npi.putInstance({ ...otherFile, instance: { ...otherFile.instance, datasetDigest: 'd' } })).outcome).toBe('conflict');
      // An entry without one (stored before it existed) is judged by its file digest.
      const old = uid();
      await npi.putInstance(entry('inventories', old, 'a'));
      const withDigest = (digest: string) => ({
        ...entry('inventories', old, digest),
        instance: { ...entry('inventories', old, digest).instance, datasetDigest: 'c' },
      });
      expect((await npi.putInstance(withDigest('a'))).outcome).toBe('identical');
      expect((await npi.putInstance(withDigest('b'))).outcome).toBe('conflict');
    });
  });
}
