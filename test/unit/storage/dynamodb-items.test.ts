import { describe, expect, it } from 'vitest';
import { dateRangeBounds, entryKey, fromItem, ownUid, shardOf, toItem, tombstoneKey } from '../../../lambdas/storage/dynamodb-items';
import type { IndexEntry } from '../../../lambdas/storage/ports';

const attributes = { '00100020': { vr: 'LO', Value: ['P1'] }, '00100010': { vr: 'PN', Value: [{ Alphabetic: '' }] } };

const study: IndexEntry = {
  level: 'STUDY',
  studyInstanceUID: '1.2.3',
  attributes,
  studyDate: '20240131',
  patientId: 'P1',
  relatedSeries: 2,
  relatedInstances: 5,
  modalities: ['MR', 'CT'],
};
const series: IndexEntry = {
  level: 'SERIES',
  studyInstanceUID: '1.2.3',
  seriesInstanceUID: '1.2.3.4',
  attributes,
  studyDate: '',
  patientId: '',
  relatedInstances: 5,
};
const instance: IndexEntry = {
  level: 'INSTANCE',
  studyInstanceUID: '1.2.3',
  seriesInstanceUID: '1.2.3.4',
  sopInstanceUID: '1.2.3.4.5',
  attributes,
  studyDate: '20240131',
  patientId: 'P1',
  instance: {
    sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
    transferSyntaxUID: '1.2.840.10008.1.2.1',
    objectKey: 'studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5.dcm',
    metadataKey: 'studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5.json',
    size: 1234,
    digest: 'ab'.repeat(32),
    numberOfFrames: 1,
  },
};

describe('shardOf', () => {
  it('is 32-bit FNV-1a of the UID (reference vectors), so every process agrees', () => {
    const all = 2 ** 32; // mod 2^32 leaves the hash itself
    expect(shardOf('', all)).toBe(0x811c9dc5);
    expect(shardOf('a', all)).toBe(0xe40c292c);
    expect(shardOf('foobar', all)).toBe(0xbf9cf968);
  });

  it('stays within [0, shards) and spreads UIDs over every shard', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 4000; i++) {
      const s = shardOf(`2.25.${1000000 + i}`, 8);
      expect(Number.isInteger(s) && s >= 0 && s < 8).toBe(true);
      counts[s]!++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(300);
  });
});

describe('item layout (table-schema.ts)', () => {
  it('keys study, series and instance entries under the study partition', () => {
    expect(entryKey(study)).toEqual({ PK: 'STUDY#1.2.3', SK: '#STUDY' });
    expect(entryKey(series)).toEqual({ PK: 'STUDY#1.2.3', SK: 'SERIES#1.2.3.4' });
    expect(entryKey(instance)).toEqual({ PK: 'STUDY#1.2.3', SK: 'INSTANCE#1.2.3.4#1.2.3.4.5' });
    expect(ownUid(series)).toBe('1.2.3.4');
  });

  it('keys tombstones by level and UIDs', () => {
    expect(tombstoneKey({ level: 'STUDY', studyInstanceUID: '1.2.3' })).toEqual({ PK: 'STUDY#1.2.3', SK: 'TOMBSTONE#STUDY#1.2.3' });
    expect(
      tombstoneKey({ level: 'INSTANCE', studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.4', sopInstanceUID: '1.2.3.4.5' }).SK,
    ).toBe('TOMBSTONE#INSTANCE#1.2.3#1.2.3.4#1.2.3.4.5');
  });

  it('writes the key attributes of the three GSIs', () => {
    const item = toItem(instance, 8);
    expect(item).toMatchObject({
      UidPK: 'UID#1.2.3.4.5',
      UidSK: 'INSTANCE',
      LevelPK: `INSTANCE#${shardOf('1.2.3.4.5', 8)}`,
      LevelSK: '20240131#1.2.3.4.5',
      PatientPK: 'PATIENT#P1',
      PatientSK: 'INSTANCE#20240131#1.2.3.4.5',
    });
    expect(typeof item.Attributes).toBe('string');
  });

  it('leaves an entry without Patient ID out of ByPatient (key attributes may not be empty)', () => {
    const item = toItem(series, 8);
    expect(item.PatientPK).toBeUndefined();
    expect(item.PatientSK).toBeUndefined();
    expect(item.LevelSK).toBe('#1.2.3.4');
  });

  it('round-trips every level through the item', () => {
    expect(fromItem(toItem(study, 4))).toEqual({ ...study, modalities: ['CT', 'MR'] });
    expect(fromItem(toItem(series, 4))).toEqual(series);
    expect(fromItem(toItem(instance, 4))).toEqual(instance);
  });

  it('refuses an entry that lacks the UID of its own level', () => {
    expect(() => toItem({ ...series, seriesInstanceUID: undefined }, 4)).toThrow(TypeError);
  });
});

describe('dateRangeBounds', () => {
  const within = (sk: string, b: readonly [string, string] | undefined) => b !== undefined && sk >= b[0] && sk <= b[1];

  it('is inclusive on both ends of a closed range', () => {
    const b = dateRangeBounds('STUDY#', { from: '20240101', to: '20240131' });
    expect(within('STUDY#20240101#1.2', b)).toBe(true);
    expect(within('STUDY#20240131#9.9', b)).toBe(true);
    expect(within('STUDY#20231231#1.2', b)).toBe(false);
    expect(within('STUDY#20240201#1.2', b)).toBe(false);
  });

  it('keeps open ends inside the prefix and excludes entries without a date', () => {
    const from = dateRangeBounds('SERIES#', { from: '20240101' });
    expect(within('SERIES#99991231#1.2', from)).toBe(true);
    expect(within('STUDY#20250101#1.2', from)).toBe(false);
    const to = dateRangeBounds('SERIES#', { to: '20240101' });
    expect(within('SERIES#19000101#1.2', to)).toBe(true);
    expect(within('SERIES##1.2', to)).toBe(false);
    expect(within('INSTANCE#20200101#1.2', to)).toBe(false);
  });

  it('is empty when from is after to', () => {
    expect(dateRangeBounds('', { from: '20250101', to: '20240101' })).toBeUndefined();
  });
});
