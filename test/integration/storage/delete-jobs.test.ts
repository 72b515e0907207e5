/**
 * Integration: the Delete job items of the index (lambdas/storage/delete-jobs.ts) on dynalite, with the
 * in-memory index of the unit tests held to the same contract.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../../lambdas/dicom/uid';
import { DynamoMetadataIndex } from '../../../lambdas/storage/dynamodb';
import type { MetadataIndex } from '../../../lambdas/storage/ports';
import { useEmulators } from '../../support/emulators';
import { MemoryMetadataIndex } from '../../support/memory-index';

const NAME = 'delete-job-items-test';
const fixture = useEmulators({ name: NAME, bucketName: NAME, tableName: NAME });
const adapters: Record<string, () => MetadataIndex> = {};

beforeAll(() => {
  const dynamo = new DynamoMetadataIndex(fixture().clients.dynamodb, NAME, 4);
  adapters.dynamodb = () => dynamo;
});
adapters.memory = () => new MemoryMetadataIndex();

describe.each(['dynamodb', 'memory'])('Delete jobs (%s)', (name) => {
  it('starts a job once, finds it from the study or a series below, and ends it', async () => {
    const index = adapters[name]!();
    const studyInstanceUID = newUid();
    const seriesInstanceUID = newUid();
    const startedAt = '2026-12-06T12:00:00.000Z';
    expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID })).toBeUndefined();

    expect(await index.startDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt })).toBe(true);
    expect(await index.startDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt })).toBe(false);
    expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID })).toEqual({ level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt });
    // Another series of the study, and the study itself, are not being deleted.
    expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID: newUid() })).toBeUndefined();
    expect(await index.findDeleteJob({ studyInstanceUID })).toBeUndefined();

    expect(await index.startDeleteJob({ level: 'STUDY', studyInstanceUID, startedAt })).toBe(true);
    // The study's job first: it covers every series.
    expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID })).toEqual({ level: 'STUDY', studyInstanceUID, startedAt });
    expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID: newUid() })).toMatchObject({ level: 'STUDY' });

    await index.endDeleteJob({ level: 'STUDY', studyInstanceUID });
    await index.endDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
    expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID })).toBeUndefined();
    // Ended, a job may start again (a later Delete of a re-stored study).
    expect(await index.startDeleteJob({ level: 'STUDY', studyInstanceUID, startedAt })).toBe(true);
  });

  it('keeps jobs out of the entries the study queries read', async () => {
    const index = adapters[name]!();
    const studyInstanceUID = newUid();
    await index.startDeleteJob({ level: 'STUDY', studyInstanceUID, startedAt: '2026-12-06T12:00:00.000Z' });
    await index.startDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID: newUid(), startedAt: '2026-12-06T12:00:00.000Z' });
    for (const level of ['STUDY', 'SERIES', 'INSTANCE'] as const) {
      const found = [];
      for await (const e of index.query({ by: 'study', level, studyInstanceUID })) found.push(e);
      expect(found).toEqual([]);
    }
    expect(await index.getStudy(studyInstanceUID)).toBeUndefined();
  });
});
