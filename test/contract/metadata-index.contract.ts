/**
 * The behaviours every MetadataIndex promises (lambdas/storage/ports.ts): a conditional put that
 * tells an identical re-store from a conflict, entries created once with counters added atomically,
 * the relational and top-level queries (PS3.18 10.6 over the index's access paths), tombstones found
 * through their ancestors and kept out of every search, Delete jobs found from the study or a series
 * below. Run against every adapter: the in-memory one of test/support and DynamoDB on dynalite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import type { IndexEntry, IndexQuery, MetadataIndex } from '../../lambdas/storage/ports';

let counter = 0;
/** A fresh UID root per test, so tests sharing the table never see each other's entries. */
export function uid(): string {
  return `2.25.${Date.now()}${++counter}`;
}

export function patientAttrs(patientId: string) {
  return { '00100020': { vr: 'LO', Value: [patientId] } };
}

export function studyEntry(study: string, studyDate = '20240115', patientId = 'P1'): IndexEntry {
  return { level: 'STUDY', studyInstanceUID: study, attributes: patientAttrs(patientId), studyDate, patientId };
}

export function seriesEntry(study: string, series: string, studyDate = '20240115', patientId = 'P1'): IndexEntry {
  return {
    level: 'SERIES',
    studyInstanceUID: study,
    seriesInstanceUID: series,
    attributes: { ...patientAttrs(patientId), '00080060': { vr: 'CS', Value: ['CT'] } },
    studyDate,
    patientId,
  };
}

export function instanceEntry(
  study: string,
  series: string,
  sop: string,
  digest = 'aa'.repeat(32),
  studyDate = '20240115',
  patientId = 'P1',
): IndexEntry {
  return {
    level: 'INSTANCE',
    studyInstanceUID: study,
    seriesInstanceUID: series,
    sopInstanceUID: sop,
    attributes: { ...patientAttrs(patientId), '00080018': { vr: 'UI', Value: [sop] } },
    studyDate,
    patientId,
    instance: {
      sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      objectKey: `studies/${study}/series/${series}/instances/${sop}.dcm`,
      metadataKey: `studies/${study}/series/${series}/instances/${sop}.json`,
      size: 100,
      digest,
      numberOfFrames: 1,
    },
  };
}

export function describeMetadataIndexContract(name: string, make: () => MetadataIndex): void {
  describe(`${name} (MetadataIndex contract)`, () => {
    let index: MetadataIndex;
    beforeAll(() => {
      index = make();
    });

    async function all(q: IndexQuery): Promise<IndexEntry[]> {
      const out: IndexEntry[] = [];
      for await (const e of index.query(q)) out.push(e);
      return out;
    }

    describe('putInstance', () => {
      it('creates, then recognises an identical re-store', async () => {
        const [study, series, sop] = [uid(), uid(), uid()];
        const entry = instanceEntry(study, series, sop);
        expect(await index.putInstance(entry)).toEqual({ outcome: 'created' });
        expect(await index.getInstance(study, series, sop)).toEqual(entry);
        expect(await index.putInstance(entry)).toEqual({ outcome: 'identical', existing: entry });
      });

      it("keeps the frames' offsets of compressed Pixel Data without an offset table, thousands of them", async () => {
        const [study, series, sop] = [uid(), uid(), uid()];
        const plain = instanceEntry(study, series, sop);
        const frameOffsets = Array.from({ length: 5001 }, (_, k) => k * 65_544);
        const entry = { ...plain, instance: { ...plain.instance!, numberOfFrames: 5000, frameOffsets } };
        expect(await index.putInstance(entry)).toEqual({ outcome: 'created' });
        expect((await index.getInstance(study, series, sop))?.instance?.frameOffsets).toEqual(frameOffsets);
        expect(
          (await index.getEntries([{ level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop }]))[0]
            ?.instance,
        ).toEqual(entry.instance);
      });

      it('conflicts on the same key with other bytes, and keeps the first entry', async () => {
        const [study, series, sop] = [uid(), uid(), uid()];
        const first = instanceEntry(study, series, sop, 'aa'.repeat(32));
        await index.putInstance(first);
        const outcome = await index.putInstance(instanceEntry(study, series, sop, 'bb'.repeat(32)));
        expect(outcome).toEqual({ outcome: 'conflict', existing: first });
        expect((await index.getInstance(study, series, sop))?.instance?.digest).toBe('aa'.repeat(32));
      });

      it('judges content by the data set digest when both entries carry one, and keeps it', async () => {
        const [study, series, sop] = [uid(), uid(), uid()];
        const plain = instanceEntry(study, series, sop, 'aa'.repeat(32));
        const first = { ...plain, instance: { ...plain.instance!, datasetDigest: 'cc'.repeat(32) } };
        expect(await index.putInstance(first)).toEqual({ outcome: 'created' });
        expect((await index.getInstance(study, series, sop))?.instance?.datasetDigest).toBe('cc'.repeat(32));
        // Another file (other File Meta Information) of the same data set.
        const sameDataSet = { ...first, instance: { ...first.instance, digest: 'bb'.repeat(32) } };
        expect(await index.putInstance(sameDataSet)).toEqual({ outcome: 'identical', existing: first });
        const otherDataSet = { ...sameDataSet, instance: { ...sameDataSet.instance, datasetDigest: 'dd'.repeat(32) } };
        expect(await index.putInstance(otherDataSet)).toEqual({ outcome: 'conflict', existing: first });
        expect(await index.getInstance(study, series, sop)).toEqual(first);
      });

      it('judges an entry without a data set digest (stored before it existed) by its file digest', async () => {
        const [study, series, sop] = [uid(), uid(), uid()];
        const old = instanceEntry(study, series, sop, 'aa'.repeat(32));
        await index.putInstance(old);
        expect((await index.getInstance(study, series, sop))?.instance).not.toHaveProperty('datasetDigest');
        const withDigest = (digest: string) => ({ ...old, instance: { ...old.instance!, digest, datasetDigest: 'cc'.repeat(32) } });
        expect(await index.putInstance(withDigest('aa'.repeat(32)))).toEqual({ outcome: 'identical', existing: old });
        expect(await index.putInstance(withDigest('bb'.repeat(32)))).toEqual({ outcome: 'conflict', existing: old });
      });

      it('finds a SOP Instance UID filed under another study by the uid lookup a store makes before writing', async () => {
        const [study, otherStudy, series, sop] = [uid(), uid(), uid(), uid()];
        const first = instanceEntry(study, series, sop);
        await index.putInstance(first);
        // putInstance guards its own key only; uniqueness across studies is the caller's ByUid lookup.
        const found: IndexEntry[] = [];
        for await (const e of index.query({ by: 'uid', level: 'INSTANCE', uids: [sop] })) found.push(e);
        expect(found).toEqual([first]);
        expect(await index.getInstance(otherStudy, series, sop)).toBeUndefined();
      });
    });

    describe('ensureStudy / ensureSeries and counters', () => {
      it('creates each entry once', async () => {
        const [study, series] = [uid(), uid()];
        expect(await index.ensureStudy(studyEntry(study))).toBe(true);
        expect(await index.ensureStudy(studyEntry(study))).toBe(false);
        expect(await index.ensureSeries(seriesEntry(study, series))).toBe(true);
        expect(await index.ensureSeries(seriesEntry(study, series))).toBe(false);
        expect(await index.getStudy(study)).toMatchObject({ level: 'STUDY', relatedSeries: 0, relatedInstances: 0, modalities: [] });
        expect(await index.getSeries(study, series)).toMatchObject({ level: 'SERIES', seriesInstanceUID: series, relatedInstances: 0 });
      });

      it('adds counters atomically and unions ModalitiesInStudy', async () => {
        const [study, series] = [uid(), uid()];
        await index.ensureStudy(studyEntry(study));
        await index.ensureSeries(seriesEntry(study, series));
        await Promise.all([
          index.addStudyCounters(study, { series: 1, instances: 1, modalities: ['CT'] }),
          index.addStudyCounters(study, { instances: 1, modalities: ['CT', 'SR'] }),
          index.addStudyCounters(study, { series: 1, instances: 2, modalities: ['MR'] }),
          index.addStudyCounters(study, {}),
          index.addSeriesCounters(study, series, { instances: 1 }),
          index.addSeriesCounters(study, series, { instances: 3 }),
        ]);
        expect(await index.getStudy(study)).toMatchObject({ relatedSeries: 2, relatedInstances: 4, modalities: ['CT', 'MR', 'SR'] });
        expect((await index.getSeries(study, series))?.relatedInstances).toBe(4);
      });

      it('removes modalities from ModalitiesInStudy, and never creates a study for it', async () => {
        const study = uid();
        await index.ensureStudy(studyEntry(study));
        await index.addStudyCounters(study, { modalities: ['CT', 'MR', 'SR'] });
        await index.removeStudyModalities(study, ['MR', 'PT']);
        expect((await index.getStudy(study))?.modalities).toEqual(['CT', 'SR']);
        await index.removeStudyModalities(study, ['CT', 'SR']);
        expect((await index.getStudy(study))?.modalities).toEqual([]);
        const missing = uid();
        await index.removeStudyModalities(missing, ['CT']);
        expect(await index.getStudy(missing)).toBeUndefined();
      });
    });

    describe('query', () => {
      it("by 'study' with a series UID does not match a series whose UID merely starts with it", async () => {
        const study = uid();
        const series = `${uid()}.1`;
        await index.putInstance(instanceEntry(study, series, uid()));
        await index.putInstance(instanceEntry(study, `${series}1`, uid()));
        await index.ensureSeries(seriesEntry(study, `${series}1`));
        expect(await all({ by: 'study', level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: series })).toHaveLength(1);
        expect(await all({ by: 'study', level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: series })).toEqual([]);
      });

      it("by 'uid': each listed UID at the asked level, wherever it is filed", async () => {
        const [st1, st2, se1, se2, se3] = [uid(), uid(), uid(), uid(), uid()];
        await index.ensureSeries(seriesEntry(st1, se1));
        await index.ensureSeries(seriesEntry(st2, se2));
        await index.ensureSeries(seriesEntry(st2, se3));
        await index.ensureStudy(studyEntry(st1));
        const found = await all({ by: 'uid', level: 'SERIES', uids: [se1, se2, uid(), se1] });
        expect(found.map((e) => [e.studyInstanceUID, e.seriesInstanceUID])).toEqual([
          [st1, se1],
          [st2, se2],
        ]);
        // The level is part of the key: a study UID is not found at series level.
        expect(await all({ by: 'uid', level: 'SERIES', uids: [st1] })).toEqual([]);
        expect((await all({ by: 'uid', level: 'STUDY', uids: [st1] })).map((e) => e.studyInstanceUID)).toEqual([st1]);
      });

      it("by 'patient': one level of one Patient ID, optionally within a date range", async () => {
        const patient = `PAT-${uid()}`;
        const dated = [
          ['20230105', uid()],
          ['20240110', uid()],
          ['20240120', uid()],
          ['20250101', uid()],
        ] as const;
        for (const [date, study] of dated) {
          await index.ensureStudy(studyEntry(study, date, patient));
          await index.ensureSeries(seriesEntry(study, uid(), date, patient));
        }
        const undated = uid();
        await index.ensureStudy(studyEntry(undated, '', patient));
        await index.ensureStudy(studyEntry(uid(), '20240110', `${patient}-other`));

        const studies = (q: Omit<Extract<IndexQuery, { by: 'patient' }>, 'by' | 'level' | 'patientId'>) =>
          all({ by: 'patient', level: 'STUDY', patientId: patient, ...q }).then((es) => es.map((e) => e.studyInstanceUID));

        // Result order: the most recent first, the study without a date last.
        expect(await studies({})).toEqual([...dated.map(([, s]) => s).reverse(), undated]);
        expect(await studies({ pageHint: 2 })).toEqual([...dated.map(([, s]) => s).reverse(), undated]); // pages of 2, all read
        expect(await studies({ dateRange: { from: '20240110', to: '20240120' } })).toEqual([dated[2][1], dated[1][1]]);
        expect(await studies({ dateRange: { from: '20240111' } })).toEqual([dated[3][1], dated[2][1]]);
        expect(await studies({ dateRange: { to: '20240110' } })).toEqual([dated[1][1], dated[0][1]]);
        expect(await studies({ dateRange: { from: '20240201', to: '20240101' } })).toEqual([]);
        const series = await all({ by: 'patient', level: 'SERIES', patientId: patient });
        expect(series.every((e) => e.level === 'SERIES')).toBe(true);
        expect(series).toHaveLength(4);
        expect(await all({ by: 'patient', level: 'STUDY', patientId: '' })).toEqual([]);
      });
    });

    describe('deleteEntry and tombstones', () => {
      it('deletes an entry by its keys', async () => {
        const [study, series, sop] = [uid(), uid(), uid()];
        await index.putInstance(instanceEntry(study, series, sop));
        await index.deleteEntry({ level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop });
        expect(await index.getInstance(study, series, sop)).toBeUndefined();
        expect(await all({ by: 'uid', level: 'INSTANCE', uids: [sop] })).toEqual([]);
        // Deleted, the UID is free again.
        expect(await index.putInstance(instanceEntry(study, series, sop))).toEqual({ outcome: 'created' });
      });

      it("finds the tombstone of the resource or of an ancestor, and clears an instance's line", async () => {
        const [study, series, otherSeries, sop] = [uid(), uid(), uid(), uid()];
        const seriesTombstone = {
          level: 'SERIES',
          studyInstanceUID: study,
          seriesInstanceUID: series,
          deletedAt: '2024-05-01T10:00:00.000Z',
        } as const;
        await index.putTombstone(seriesTombstone);

        expect(await index.findTombstone({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: series })).toEqual({
          ...seriesTombstone,
          sopInstanceUID: undefined,
        });
        expect(
          await index.findTombstone({ level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop }),
        ).toMatchObject(seriesTombstone);
        expect(await index.findTombstone({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: otherSeries })).toBeUndefined();
        expect(await index.findTombstone({ level: 'STUDY', studyInstanceUID: study })).toBeUndefined();

        await index.putTombstone({ level: 'STUDY', studyInstanceUID: study, deletedAt: '2024-05-02T00:00:00.000Z' });
        expect(await index.findTombstone({ level: 'SERIES', studyInstanceUID: study, seriesInstanceUID: otherSeries })).toMatchObject({
          level: 'STUDY',
        });

        await index.clearTombstones([{ studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop }]);
        expect(
          await index.findTombstone({ level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: series, sopInstanceUID: sop }),
        ).toBeUndefined();
        expect(await index.findTombstone({ level: 'STUDY', studyInstanceUID: study })).toBeUndefined();
      });

      it('clears the tombstones of a whole Store request, more than one BatchWriteItem holds', async () => {
        const study = uid();
        const instances = Array.from({ length: 40 }, (_, i) => ({
          studyInstanceUID: study,
          seriesInstanceUID: `${study}.${i % 3}`,
          sopInstanceUID: uid(),
        }));
        const deletedAt = '2024-05-03T00:00:00.000Z';
        await index.putTombstone({ level: 'STUDY', studyInstanceUID: study, deletedAt });
        for (const i of instances) await index.putTombstone({ level: 'INSTANCE', ...i, deletedAt });
        const untouched = { level: 'INSTANCE', studyInstanceUID: study, seriesInstanceUID: `${study}.0`, sopInstanceUID: uid() } as const;
        await index.putTombstone({ ...untouched, deletedAt });

        await index.clearTombstones(instances);
        for (const i of instances) expect(await index.findTombstone({ level: 'INSTANCE', ...i })).toBeUndefined();
        // Only the named instances' own tombstones (and their ancestors') go.
        expect(await index.findTombstone(untouched)).toMatchObject({ level: 'INSTANCE', sopInstanceUID: untouched.sopInstanceUID });
      });

      it('keeps tombstones out of every search', async () => {
        const study = uid();
        await index.putTombstone({ level: 'STUDY', studyInstanceUID: study, deletedAt: '2024-05-02T00:00:00.000Z' });
        expect(await all({ by: 'study', level: 'STUDY', studyInstanceUID: study })).toEqual([]);
        expect(await all({ by: 'uid', level: 'STUDY', uids: [study] })).toEqual([]);
      });
    });

    describe('Delete jobs', () => {
      it('starts a job once, finds it from the study or a series below, and ends it', async () => {
        const studyInstanceUID = newUid();
        const seriesInstanceUID = newUid();
        const startedAt = '2026-12-06T12:00:00.000Z';
        expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID })).toBeUndefined();

        expect(await index.startDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt })).toBe(true);
        expect(await index.startDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt })).toBe(false);
        expect(await index.findDeleteJob({ studyInstanceUID, seriesInstanceUID })).toEqual({
          level: 'SERIES',
          studyInstanceUID,
          seriesInstanceUID,
          startedAt,
        });
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

      it("findSeriesForStore: the series' Delete job, its study's entry and its own in one read", async () => {
        const studyInstanceUID = newUid();
        const seriesInstanceUID = newUid();
        const startedAt = '2026-12-06T12:00:00.000Z';
        const uids = { studyInstanceUID, seriesInstanceUID };
        expect(await index.findSeriesForStore(uids)).toEqual({});

        await index.ensureStudy(studyEntry(studyInstanceUID));
        const study = await index.getStudy(studyInstanceUID);
        expect(await index.findSeriesForStore(uids)).toEqual({ study });
        await index.ensureSeries(seriesEntry(studyInstanceUID, seriesInstanceUID));
        const series = await index.getSeries(studyInstanceUID, seriesInstanceUID);
        expect(series).toMatchObject({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
        expect(await index.findSeriesForStore(uids)).toEqual({ study, series });
        expect(await index.findSeriesForStore({ studyInstanceUID, seriesInstanceUID: newUid() })).toEqual({ study });

        await index.startDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt });
        expect(await index.findSeriesForStore(uids)).toEqual({
          deleteJob: { level: 'SERIES', studyInstanceUID, seriesInstanceUID, startedAt },
          study,
          series,
        });
        await index.startDeleteJob({ level: 'STUDY', studyInstanceUID, startedAt });
        // The study's job first, as findDeleteJob; another series of the study is covered too.
        expect((await index.findSeriesForStore(uids)).deleteJob).toEqual({ level: 'STUDY', studyInstanceUID, startedAt });
        expect((await index.findSeriesForStore({ studyInstanceUID, seriesInstanceUID: newUid() })).deleteJob).toEqual({
          level: 'STUDY',
          studyInstanceUID,
          startedAt,
        });
        await index.endDeleteJob({ level: 'STUDY', studyInstanceUID });
        await index.endDeleteJob({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
        expect((await index.findSeriesForStore(uids)).deleteJob).toBeUndefined();
      });

      it('keeps jobs out of the entries the study queries read', async () => {
        const studyInstanceUID = newUid();
        await index.startDeleteJob({ level: 'STUDY', studyInstanceUID, startedAt: '2026-12-06T12:00:00.000Z' });
        await index.startDeleteJob({
          level: 'SERIES',
          studyInstanceUID,
          seriesInstanceUID: newUid(),
          startedAt: '2026-12-06T12:00:00.000Z',
        });
        for (const level of ['STUDY', 'SERIES', 'INSTANCE'] as const) {
          const found = [];
          for await (const e of index.query({ by: 'study', level, studyInstanceUID })) found.push(e);
          expect(found).toEqual([]);
        }
        expect(await index.getStudy(studyInstanceUID)).toBeUndefined();
      });
    });
  });
}
