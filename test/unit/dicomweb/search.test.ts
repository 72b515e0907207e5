import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { BadRequestError, PayloadTooLargeError } from '../../../lambdas/dicomweb/errors';
import { buildIndexEntries } from '../../../lambdas/dicomweb/index-entries';
import { parseSearchParameters } from '../../../lambdas/dicomweb/query-params';
import { SearchService, type SearchLimits } from '../../../lambdas/dicomweb/search';
import type { IndexQuery, Level } from '../../../lambdas/storage/ports';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { MemoryMetadataIndex } from '../../support/memory-index';

const BASE_URL = 'http://127.0.0.1:8080/dicomweb/';
const CT = '1.2.840.10008.5.1.4.1.1.2';

interface TestInstance {
  study: string;
  series: string;
  sop: string;
  patientId: string;
  patientName: string;
  studyDate?: string;
  /** Absent: an instance without Modality, whose study has no ModalitiesInStudy. */
  modality?: string;
  instanceNumber: number;
}

function datasetOf(i: TestInstance): DicomJson {
  const ds: DicomJson = {
    [Tag.SpecificCharacterSet]: { vr: 'CS', Value: ['ISO_IR 192'] },
    [Tag.SOPClassUID]: { vr: 'UI', Value: [CT] },
    [Tag.SOPInstanceUID]: { vr: 'UI', Value: [i.sop] },
    ...(i.modality !== undefined && { [Tag.Modality]: { vr: 'CS', Value: [i.modality] } }),
    [Tag.StudyDescription]: { vr: 'LO', Value: [`Study ${i.study}`] },
    [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: i.patientName }] },
    [Tag.PatientID]: { vr: 'LO', Value: [i.patientId] },
    [Tag.StudyInstanceUID]: { vr: 'UI', Value: [i.study] },
    [Tag.SeriesInstanceUID]: { vr: 'UI', Value: [i.series] },
    [Tag.InstanceNumber]: { vr: 'IS', Value: [i.instanceNumber] },
    [Tag.Rows]: { vr: 'US', Value: [512] },
  };
  if (i.studyDate) ds[Tag.StudyDate] = { vr: 'DA', Value: [i.studyDate] };
  return ds;
}

/** Indexes an instance the way the store service does: conditional put, then create-if-missing and counters. */
async function index(idx: MemoryMetadataIndex, i: TestInstance): Promise<void> {
  const entries = buildIndexEntries(datasetOf(i), {
    sopClassUID: CT,
    transferSyntaxUID: '1.2.840.10008.1.2.1',
    objectKey: `${i.sop}.dcm`,
    metadataKey: `${i.sop}.json`,
    size: 100,
    digest: i.sop,
    numberOfFrames: 1,
  });
  expect((await idx.putInstance(entries.instance)).outcome).toBe('created');
  await idx.ensureStudy(entries.study);
  const newSeries = await idx.ensureSeries(entries.series);
  await idx.addSeriesCounters(i.study, i.series, { instances: 1 });
  await idx.addStudyCounters(i.study, {
    series: newSeries ? 1 : 0,
    instances: 1,
    modalities: i.modality === undefined ? [] : [i.modality],
  });
}

const hans = { patientId: 'P1', patientName: 'Müller^Hans' };
const jane = { patientId: 'P2', patientName: 'Doe^Jane' };
const INSTANCES: TestInstance[] = [
  { ...hans, study: '1.1', series: '1.1.1', sop: '1.1.1.1', studyDate: '20240310', modality: 'CT', instanceNumber: 1 },
  { ...hans, study: '1.1', series: '1.1.1', sop: '1.1.1.2', studyDate: '20240310', modality: 'CT', instanceNumber: 2 },
  { ...hans, study: '1.1', series: '1.1.2', sop: '1.1.2.1', studyDate: '20240310', modality: 'PT', instanceNumber: 1 },
  { ...jane, study: '1.2', series: '1.2.1', sop: '1.2.1.1', studyDate: '20240320', modality: 'MR', instanceNumber: 1 },
  { ...hans, study: '1.3', series: '1.3.1', sop: '1.3.1.1', modality: 'CT', instanceNumber: 1 },
];

const LIMITS: SearchLimits = { maxCandidates: 100, defaultLimit: 50, maxLimit: 100 };

let idx: MemoryMetadataIndex;
beforeEach(async () => {
  idx = new MemoryMetadataIndex();
  for (const i of INSTANCES) await index(idx, i);
});

function search(
  level: Level,
  params: Record<string, string | string[]> = {},
  path: { studyInstanceUID?: string; seriesInstanceUID?: string } = {},
  limits: SearchLimits = LIMITS,
) {
  const query = new Map(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  const parameters = parseSearchParameters(query, level);
  return new SearchService(idx, limits).search({ level, ...path, parameters, baseUrl: BASE_URL });
}

const uidsOf = (results: DicomJson[], tag: string) => results.map((r) => r[tag]?.Value?.[0]);

describe('SearchService access path', () => {
  async function accessPath(level: Level, params: Record<string, string>, path = {}): Promise<IndexQuery> {
    const spy = vi.spyOn(idx, 'query');
    spy.mockClear();
    await search(level, params, path);
    expect(spy).toHaveBeenCalledTimes(1);
    return spy.mock.calls[0]![0];
  }

  it('queries the study partition for a relational resource', async () => {
    expect(await accessPath('INSTANCE', { PatientID: 'P1' }, { studyInstanceUID: '1.1', seriesInstanceUID: '1.1.2' })).toEqual({
      by: 'study',
      level: 'INSTANCE',
      studyInstanceUID: '1.1',
      seriesInstanceUID: '1.1.2',
    });
  });
  it("looks up the level's own UIDs", async () => {
    expect(await accessPath('STUDY', { StudyInstanceUID: '1.1,1.2', PatientID: 'P1' })).toEqual({
      by: 'uid',
      level: 'STUDY',
      uids: ['1.1', '1.2'],
    });
    expect(await accessPath('INSTANCE', { SOPInstanceUID: '1.1.1.2' })).toEqual({ by: 'uid', level: 'INSTANCE', uids: ['1.1.1.2'] });
  });
  it('uses the study partition for one StudyInstanceUID key below study level', async () => {
    expect(await accessPath('SERIES', { StudyInstanceUID: '1.1' })).toEqual({ by: 'study', level: 'SERIES', studyInstanceUID: '1.1' });
  });
  it('uses the patient index for an exact PatientID, with the StudyDate range', async () => {
    expect(await accessPath('STUDY', { PatientID: 'P1', StudyDate: '20240101-' })).toEqual({
      by: 'patient',
      level: 'STUDY',
      patientId: 'P1',
      dateRange: { from: '20240101', to: undefined },
      pageHint: 51, // the default limit (50) and one more, to know whether results are truncated
    });
  });
  it('uses the level index with the date range when PatientID has wildcards', async () => {
    expect(await accessPath('STUDY', { PatientID: 'P*', StudyDate: '20240310' })).toEqual({
      by: 'level',
      level: 'STUDY',
      dateRange: { from: '20240310', to: '20240310' },
      pageHint: 51,
    });
  });
  it('uses the name terms for a PatientName key with a literal start, after an exact PatientID', async () => {
    expect(await accessPath('INSTANCE', { PatientName: 'Smi*', StudyDate: '20240310' })).toEqual({
      by: 'name',
      level: 'INSTANCE',
      prefix: 'smi',
      dateRange: { from: '20240310', to: '20240310' },
      pageHint: 51,
    });
    expect(await accessPath('SERIES', { PatientName: 'müller', fuzzymatching: 'true' })).toEqual({
      by: 'name',
      level: 'SERIES',
      prefix: 'muller',
      dateRange: undefined,
      pageHint: 51,
    });
    expect((await accessPath('STUDY', { PatientName: 'Smi*', PatientID: 'P1' })).by).toBe('patient');
  });
  it('reads the level for a PatientName key without a literal start', async () => {
    expect(await accessPath('STUDY', { PatientName: '*ith' })).toEqual({ by: 'level', level: 'STUDY', dateRange: undefined, pageHint: 51 });
  });
  it('falls back to every entry of the level', async () => {
    expect(await accessPath('SERIES', { Modality: 'CT' })).toEqual({ by: 'level', level: 'SERIES', dateRange: undefined, pageHint: 51 });
  });
});

describe('SearchService results', () => {
  it('returns the default study attributes with counters, newest first, undated last', async () => {
    const { results, truncated } = await search('STUDY');
    expect(truncated).toBe(false);
    expect(uidsOf(results, Tag.StudyInstanceUID)).toEqual(['1.2', '1.1', '1.3']);
    const study = results[1]!;
    expect(study[Tag.ModalitiesInStudy]).toEqual({ vr: 'CS', Value: ['CT', 'PT'] });
    expect(study[Tag.NumberOfStudyRelatedSeries]).toEqual({ vr: 'IS', Value: [2] });
    expect(study[Tag.NumberOfStudyRelatedInstances]).toEqual({ vr: 'IS', Value: [3] });
    expect(study[Tag.RetrieveURL]).toEqual({ vr: 'UR', Value: ['http://127.0.0.1:8080/dicomweb/studies/1.1'] });
    expect(study[Tag.InstanceAvailability]).toEqual({ vr: 'CS', Value: ['ONLINE'] });
    expect(study[Tag.PatientName]).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Müller^Hans' }] });
    // Requested but not held: returned empty; not requested: absent.
    expect(study[Tag.AccessionNumber]).toEqual({ vr: 'SH' });
    expect(study[Tag.StudyDescription]).toBeUndefined();
    expect(Object.keys(study)).toEqual([...Object.keys(study)].sort());
  });

  it('leaves ModalitiesInStudy out of a study without any Modality unless the request names it (OHIF 3.13)', async () => {
    await index(idx, { ...jane, study: '1.4', series: '1.4.1', sop: '1.4.1.1', studyDate: '20240301', instanceNumber: 1 });
    // OHIF's study search: default attributes plus includefield=00081030,00080060,00080090,00100030.
    const ohif = await search('STUDY', { includefield: '00081030,00080060,00080090,00100030', limit: '101' });
    const results = new Map(ohif.results.map((r) => [r[Tag.StudyInstanceUID]!.Value![0], r]));
    expect([...results.keys()]).toEqual(['1.2', '1.1', '1.4', '1.3']);
    expect(Object.hasOwn(results.get('1.4')!, Tag.ModalitiesInStudy)).toBe(false);
    expect(results.get('1.1')![Tag.ModalitiesInStudy]).toEqual({ vr: 'CS', Value: ['CT', 'PT'] });
    // Every ModalitiesInStudy returned has a value: what OHIF's getModalities reads.
    for (const r of ohif.results) if (r[Tag.ModalitiesInStudy]) expect(r[Tag.ModalitiesInStudy]!.Value!.length).toBeGreaterThan(0);
    // The other attributes OHIF's study list reads stay as PS3.18 F.2.5 writes an empty one.
    expect(results.get('1.4')![Tag.AccessionNumber]).toEqual({ vr: 'SH' });
    expect(results.get('1.4')![Tag.Modality]).toEqual({ vr: 'CS' });
    // Named by includefield: returned empty (F.2.5), as asked.
    const asked = await search('STUDY', { StudyInstanceUID: '1.4', includefield: 'ModalitiesInStudy' });
    expect(asked.results[0]![Tag.ModalitiesInStudy]).toEqual({ vr: 'CS' });
    // includefield=all: what the study holds, which is no ModalitiesInStudy.
    const all = await search('STUDY', { StudyInstanceUID: '1.4', includefield: 'all' });
    expect(Object.hasOwn(all.results[0]!, Tag.ModalitiesInStudy)).toBe(false);
    // /series of the study: no ancestor ModalitiesInStudy either.
    const series = await search('SERIES', { SeriesInstanceUID: '1.4.1' });
    expect(Object.hasOwn(series.results[0]!, Tag.ModalitiesInStudy)).toBe(false);
  });

  it('filters by the matching keys and returns them', async () => {
    const { results } = await search('STUDY', { PatientName: 'muller', fuzzymatching: 'true', StudyDate: '20240101-' });
    expect(uidsOf(results, Tag.StudyInstanceUID)).toEqual(['1.1']);
    expect((await search('STUDY', { PatientName: 'muller' })).results).toEqual([]);
    expect(uidsOf((await search('STUDY', { ModalitiesInStudy: 'PT' })).results, Tag.StudyInstanceUID)).toEqual(['1.1']);
    const bySeries = await search('SERIES', { Modality: 'CT', PatientID: 'P1' });
    expect(uidsOf(bySeries.results, Tag.SeriesInstanceUID)).toEqual(['1.1.1', '1.3.1']);
  });

  it('adds includefield attributes by keyword and tag, and everything held with all', async () => {
    const byKeyword = await search('STUDY', { StudyInstanceUID: '1.2', includefield: 'StudyDescription' });
    expect(byKeyword.results[0]![Tag.StudyDescription]).toEqual({ vr: 'LO', Value: ['Study 1.2'] });
    const byTag = await search('STUDY', { StudyInstanceUID: '1.2', includefield: '00081030' });
    expect(byTag.results[0]![Tag.StudyDescription]).toEqual({ vr: 'LO', Value: ['Study 1.2'] });
    const all = await search('INSTANCE', { SOPInstanceUID: '1.2.1.1', includefield: 'all' });
    expect(all.results[0]).toMatchObject({
      [Tag.StudyDescription]: { Value: ['Study 1.2'] },
      [Tag.Modality]: { Value: ['MR'] },
      [Tag.Rows]: { Value: [512] },
      [Tag.RetrieveURL]: { Value: ['http://127.0.0.1:8080/dicomweb/studies/1.2/series/1.2.1/instances/1.2.1.1'] },
    });
    expect(all.results[0]![Tag.AccessionNumber]).toBeUndefined();
  });

  it('adds the study attributes and counters on /series, not on /studies/{study}/series', async () => {
    const top = await search('SERIES', { SeriesInstanceUID: '1.1.2' });
    expect(top.results[0]).toMatchObject({
      [Tag.PatientID]: { Value: ['P1'] },
      [Tag.NumberOfStudyRelatedInstances]: { Value: [3] },
      [Tag.ModalitiesInStudy]: { Value: ['CT', 'PT'] },
      [Tag.NumberOfSeriesRelatedInstances]: { Value: [1] },
      [Tag.Modality]: { Value: ['PT'] },
    });
    const relational = await search('SERIES', {}, { studyInstanceUID: '1.1' });
    expect(uidsOf(relational.results, Tag.SeriesInstanceUID)).toEqual(['1.1.2', '1.1.1']); // result order: UID descending within a date
    expect(relational.results[1]![Tag.PatientID]).toBeUndefined();
    expect(relational.results[1]![Tag.NumberOfSeriesRelatedInstances]).toEqual({ vr: 'IS', Value: [2] });
  });

  it('adds the series attributes on /studies/{study}/instances, only the instance ones under a series', async () => {
    const inStudy = await search('INSTANCE', {}, { studyInstanceUID: '1.1' });
    expect(inStudy.results).toHaveLength(3);
    expect(inStudy.results[2]).toMatchObject({
      [Tag.SOPInstanceUID]: { Value: ['1.1.1.1'] },
      [Tag.Modality]: { Value: ['CT'] },
      [Tag.NumberOfSeriesRelatedInstances]: { Value: [2] },
      [Tag.InstanceNumber]: { Value: [1] },
    });
    expect(inStudy.results[2]![Tag.PatientID]).toBeUndefined();
    const inSeries = await search('INSTANCE', {}, { studyInstanceUID: '1.1', seriesInstanceUID: '1.1.2' });
    expect(uidsOf(inSeries.results, Tag.SOPInstanceUID)).toEqual(['1.1.2.1']);
    expect(inSeries.results[0]![Tag.Modality]).toBeUndefined();
  });

  it('returns [] under a study that does not exist', async () => {
    expect(await search('SERIES', {}, { studyInstanceUID: '9.9' })).toEqual({ results: [], truncated: false });
    expect(await search('INSTANCE', {}, { studyInstanceUID: '9.9', seriesInstanceUID: '9.9.9' })).toEqual({
      results: [],
      truncated: false,
    });
  });

  it('answers 400 to a malformed UID in the path of a relational resource (test/reliability/security)', async () => {
    await expect(search('SERIES', {}, { studyInstanceUID: '../../etc' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(search('INSTANCE', {}, { studyInstanceUID: '1.1', seriesInstanceUID: '..\\x' })).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('SearchService paging', () => {
  it('applies offset and limit and says when more matches exist', async () => {
    const first = await search('INSTANCE', { limit: '2' });
    expect(uidsOf(first.results, Tag.SOPInstanceUID)).toEqual(['1.2.1.1', '1.1.2.1']);
    expect(first.truncated).toBe(true);
    const last = await search('INSTANCE', { limit: '2', offset: '4' });
    expect(uidsOf(last.results, Tag.SOPInstanceUID)).toEqual(['1.3.1.1']);
    expect(last.truncated).toBe(false);
    expect(await search('INSTANCE', { offset: '5' })).toEqual({ results: [], truncated: false });
  });

  it('uses the default limit and caps a larger limit at maxLimit', async () => {
    const limits = { maxCandidates: 100, defaultLimit: 3, maxLimit: 4 };
    const byDefault = await search('INSTANCE', {}, {}, limits);
    expect(byDefault.results).toHaveLength(3);
    expect(byDefault.truncated).toBe(true);
    const capped = await search('INSTANCE', { limit: '1000' }, {}, limits);
    expect(capped.results).toHaveLength(4);
    expect(capped.truncated).toBe(true);
  });
});

describe('SearchService byte budget (PS3.18 8.3.4.4.1: fewer results than limit, and the number remaining)', () => {
  const parameters = (params: Record<string, string>) =>
    parseSearchParameters(new Map(Object.entries(params).map(([k, v]) => [k, [v]])), 'INSTANCE');
  const run = (params: Record<string, string>, maxBytes: number) =>
    new SearchService(idx, LIMITS).search({
      level: 'INSTANCE',
      parameters: parameters(params),
      baseUrl: BASE_URL,
      budget: { maxBytes, sizeOf: (r) => JSON.stringify(r).length + 1 },
    });

  it('ends the page where the budget ends, with the number of matches left when all were read', async () => {
    const all = await run({ limit: '10' }, Infinity);
    const sizes = all.results.map((r) => JSON.stringify(r).length + 1);
    expect(all).toMatchObject({ truncated: false });
    expect(all.remaining).toBeUndefined();
    const page = await run({ limit: '10' }, sizes[0]! + sizes[1]!);
    expect(page.results).toEqual(all.results.slice(0, 2));
    expect(page).toMatchObject({ truncated: true, remaining: 3 });
    const next = await run({ limit: '10', offset: '2' }, sizes[2]! + sizes[3]! + sizes[4]!);
    expect(next.results).toEqual(all.results.slice(2));
    expect(next).toMatchObject({ truncated: false });
  });

  it('leaves the number out when the search stopped before reading every match', async () => {
    const page = await run({ limit: '2' }, Infinity);
    expect(page.truncated).toBe(true);
    expect(page.remaining).toBeUndefined();
  });

  it('answers 413 when one result alone is over the budget', async () => {
    await expect(run({ limit: '10' }, 10)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('SearchService candidate cap', () => {
  it('answers 413 when the access path reads more entries than allowed', async () => {
    const limits = { maxCandidates: 4, defaultLimit: 10, maxLimit: 10 };
    // Five instances are read even though only one matches.
    await expect(search('INSTANCE', { InstanceNumber: '2' }, {}, limits)).rejects.toThrow(PayloadTooLargeError);
    await expect(search('INSTANCE', { InstanceNumber: '2' }, {}, limits)).rejects.toThrow(/PatientID/);
    // A selective key reads fewer candidates and passes.
    const byPatient = await search('INSTANCE', { PatientID: 'P1', InstanceNumber: '2' }, {}, limits);
    expect(uidsOf(byPatient.results, Tag.SOPInstanceUID)).toEqual(['1.1.1.2']);
    expect((await search('STUDY', {}, {}, { ...limits, maxCandidates: 3 })).results).toHaveLength(3);
  });
});

describe('SearchService reading in result order', () => {
  /** How many entries the search pulls from the index. */
  function countReads(): () => number {
    let reads = 0;
    const query = idx.query.bind(idx);
    vi.spyOn(idx, 'query').mockImplementation(async function* (q: IndexQuery) {
      for await (const e of query(q)) {
        reads++;
        yield e;
      }
    });
    return () => reads;
  }

  it('stops reading a level or a patient after the page and one more match', async () => {
    const reads = countReads();
    const page = await search('INSTANCE', { limit: '2' });
    expect(uidsOf(page.results, Tag.SOPInstanceUID)).toEqual(['1.2.1.1', '1.1.2.1']);
    expect(page.truncated).toBe(true);
    expect(reads()).toBe(3);
    const byPatient = await search('INSTANCE', { PatientID: 'P1', limit: '1', offset: '1' });
    expect(uidsOf(byPatient.results, Tag.SOPInstanceUID)).toEqual(['1.1.1.2']);
    expect(reads()).toBe(3 + 3);
  });

  it('answers a page of a broad search beyond maxCandidates, still 413 when the matches lie further', async () => {
    const limits = { maxCandidates: 3, defaultLimit: 10, maxLimit: 10 };
    expect((await search('INSTANCE', { limit: '2' }, {}, limits)).results).toHaveLength(2);
    // No instance matches: the search reads past maxCandidates looking for one.
    await expect(search('INSTANCE', { limit: '1', Modality: 'MR', InstanceNumber: '9' }, {}, limits)).rejects.toThrow(PayloadTooLargeError);
  });

  it('stops a name search after the page and one more match: its terms come in result order too', async () => {
    const reads = countReads();
    const page = await search('INSTANCE', { PatientName: 'Mü*', limit: '1' });
    expect(uidsOf(page.results, Tag.SOPInstanceUID)).toEqual(['1.1.2.1']);
    expect(page.truncated).toBe(true);
    expect(reads()).toBe(2); // of Hans's four instances
  });
});
