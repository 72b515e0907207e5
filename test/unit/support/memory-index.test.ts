import { beforeEach, describe, expect, it } from 'vitest';
import type { IndexEntry, IndexQuery, Level } from '../../../lambdas/storage/ports';
import { MemoryMetadataIndex } from '../../support/memory-index';

function entry(level: Level, study: string, series?: string, sop?: string, extra: Partial<IndexEntry> = {}): IndexEntry {
  return {
    level,
    studyInstanceUID: study,
    seriesInstanceUID: series,
    sopInstanceUID: sop,
    attributes: {},
    studyDate: '20240101',
    patientId: 'P1',
    ...(level === 'INSTANCE'
      ? {
          instance: {
            sopClassUID: '1.2',
            transferSyntaxUID: '1.2.840.10008.1.2.1',
            objectKey: `${sop}.dcm`,
            metadataKey: `${sop}.json`,
            size: 1,
            digest: 'd1',
            numberOfFrames: 1,
          },
        }
      : {}),
    ...extra,
  };
}

async function collect(idx: MemoryMetadataIndex, q: IndexQuery): Promise<string[]> {
  const out: string[] = [];
  for await (const e of idx.query(q)) out.push(e.sopInstanceUID ?? e.seriesInstanceUID ?? e.studyInstanceUID);
  return out;
}

describe('MemoryMetadataIndex', () => {
  let idx: MemoryMetadataIndex;
  beforeEach(() => {
    idx = new MemoryMetadataIndex();
  });

  it('puts an instance once on its key: created, then identical or conflict', async () => {
    const first = entry('INSTANCE', '1', '1.1', '1.1.1');
    expect(await idx.putInstance(first)).toEqual({ outcome: 'created' });
    expect(await idx.putInstance(first)).toMatchObject({ outcome: 'identical', existing: { sopInstanceUID: '1.1.1' } });
    const otherContent = { ...first, instance: { ...first.instance!, digest: 'd2' } };
    expect((await idx.putInstance(otherContent)).outcome).toBe('conflict');
    expect(await idx.getInstance('1', '1.1', '1.1.1')).toEqual(first);
    // Like the conditional put of the DynamoDB adapter, only the key is guarded; the uid lookup finds it elsewhere.
    expect(await collect(idx, { by: 'uid', level: 'INSTANCE', uids: ['1.1.1'] })).toEqual(['1.1.1']);
  });

  it('creates series and study only when missing, and adds counters', async () => {
    expect(await idx.ensureStudy(entry('STUDY', '1'))).toBe(true);
    expect(await idx.ensureStudy(entry('STUDY', '1', undefined, undefined, { patientId: 'other' }))).toBe(false);
    expect(await idx.getStudy('1')).toMatchObject({ relatedSeries: 0, relatedInstances: 0, modalities: [] });
    expect(await idx.ensureSeries(entry('SERIES', '1', '1.1'))).toBe(true);
    expect(await idx.ensureSeries(entry('SERIES', '1', '1.1'))).toBe(false);
    await idx.addStudyCounters('1', { series: 1, instances: 2, modalities: ['CT'] });
    await idx.addStudyCounters('1', { instances: 1, modalities: ['PT', 'CT'] });
    await idx.addSeriesCounters('1', '1.1', { instances: 3 });
    expect(await idx.getStudy('1')).toMatchObject({ patientId: 'P1', relatedSeries: 1, relatedInstances: 3, modalities: ['CT', 'PT'] });
    expect((await idx.getSeries('1', '1.1'))?.relatedInstances).toBe(3);
  });

  it('answers the four access paths', async () => {
    await idx.putInstance(entry('INSTANCE', '1', '1.1', '1.1.1'));
    await idx.putInstance(entry('INSTANCE', '1', '1.2', '1.2.1', { studyDate: '20240101' }));
    await idx.putInstance(entry('INSTANCE', '2', '2.1', '2.1.1', { studyDate: '20240301', patientId: 'P2' }));
    await idx.putInstance(entry('INSTANCE', '3', '3.1', '3.1.1', { studyDate: '' }));
    await idx.ensureStudy(entry('STUDY', '1'));

    expect(await collect(idx, { by: 'study', level: 'INSTANCE', studyInstanceUID: '1' })).toEqual(['1.1.1', '1.2.1']);
    expect(await collect(idx, { by: 'study', level: 'INSTANCE', studyInstanceUID: '1', seriesInstanceUID: '1.2' })).toEqual(['1.2.1']);
    expect(await collect(idx, { by: 'study', level: 'STUDY', studyInstanceUID: '1' })).toEqual(['1']);
    expect(await collect(idx, { by: 'uid', level: 'INSTANCE', uids: ['2.1.1', '3.1.1', '9'] })).toEqual(['2.1.1', '3.1.1']);
    expect(await collect(idx, { by: 'uid', level: 'STUDY', uids: ['2'] })).toEqual([]);
    expect(await collect(idx, { by: 'patient', level: 'INSTANCE', patientId: 'P2' })).toEqual(['2.1.1']);
    expect(await collect(idx, { by: 'patient', level: 'INSTANCE', patientId: 'P1', dateRange: { to: '20240101' } })).toEqual([
      '1.2.1',
      '1.1.1',
    ]); // result order, as the DynamoDB index: most recent first, then UID descending
    expect(await collect(idx, { by: 'level', level: 'INSTANCE' })).toEqual(['2.1.1', '1.2.1', '1.1.1', '3.1.1']);
    // Inclusive range; an entry without a Study Date never matches a range.
    expect(await collect(idx, { by: 'level', level: 'INSTANCE', dateRange: { from: '20240101', to: '20240301' } })).toEqual([
      '2.1.1',
      '1.2.1',
      '1.1.1',
    ]);
    expect(await collect(idx, { by: 'level', level: 'INSTANCE', dateRange: { from: '20240102' } })).toEqual(['2.1.1']);
  });

  it('deletes entries', async () => {
    await idx.putInstance(entry('INSTANCE', '1', '1.1', '1.1.1'));
    await idx.deleteEntry({ level: 'INSTANCE', studyInstanceUID: '1', seriesInstanceUID: '1.1', sopInstanceUID: '1.1.1' });
    expect(await idx.getInstance('1', '1.1', '1.1.1')).toBeUndefined();
    expect((await idx.putInstance(entry('INSTANCE', '1', '1.1', '1.1.1'))).outcome).toBe('created');
  });

  it('finds the tombstone of a resource or its ancestors, and clears them on re-store', async () => {
    const deletedAt = '2026-01-01T00:00:00Z';
    await idx.putTombstone({ level: 'SERIES', studyInstanceUID: '1', seriesInstanceUID: '1.1', deletedAt });
    const instance = { level: 'INSTANCE', studyInstanceUID: '1', seriesInstanceUID: '1.1', sopInstanceUID: '1.1.1' } as const;
    expect(await idx.findTombstone(instance)).toMatchObject({ level: 'SERIES', deletedAt });
    expect(await idx.findTombstone({ level: 'SERIES', studyInstanceUID: '1', seriesInstanceUID: '1.2' })).toBeUndefined();
    expect(await idx.findTombstone({ level: 'STUDY', studyInstanceUID: '1' })).toBeUndefined();
    await idx.putTombstone({ level: 'STUDY', studyInstanceUID: '1', deletedAt });
    expect(await idx.findTombstone({ level: 'SERIES', studyInstanceUID: '1', seriesInstanceUID: '1.2' })).toMatchObject({ level: 'STUDY' });
    await idx.putTombstone({ ...instance, deletedAt });
    await idx.clearTombstones([{ studyInstanceUID: '1', seriesInstanceUID: '1.1', sopInstanceUID: '1.1.1' }]);
    expect(await idx.findTombstone(instance)).toBeUndefined();
  });

  it('hands out copies, so callers cannot change what it holds', async () => {
    await idx.ensureStudy(entry('STUDY', '1'));
    const got = (await idx.getStudy('1')) as { attributes: Record<string, unknown> };
    got.attributes.x = { vr: 'LO' };
    expect((await idx.getStudy('1'))?.attributes).toEqual({});
  });
});
