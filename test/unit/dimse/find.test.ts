import { describe, expect, it } from 'vitest';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { Tag } from '../../../lambdas/dicom/tags';
import { performFind, type FindResponse } from '../../../lambdas/dimse/find';
import { QRTag } from '../../../lambdas/dimse/identifier';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { makeStudy } from '../../support/dicom-factory';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { storeInstances } from '../../support/seed';

async function searchOver(limit: { maxCandidates: number; maxLimit: number }) {
  const index = new MemoryMetadataIndex();
  const blobs = new MemoryBlobStore();
  const study = makeStudy({ series: 3, instancesPerSeries: 1, patientID: 'P-FIND' });
  await storeInstances(
    index,
    blobs,
    study.instances.map((i) => i.bytes),
    { baseUrl: '' },
  );
  return {
    search: new SearchService(index, { maxCandidates: limit.maxCandidates, defaultLimit: limit.maxLimit, maxLimit: limit.maxLimit }),
    study,
  };
}

const seriesQuery = (study: string): DicomJson => ({
  [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['SERIES'] },
  [Tag.StudyInstanceUID]: { vr: 'UI', Value: [study] },
  [Tag.SeriesInstanceUID]: { vr: 'UI' },
});

async function collect(gen: AsyncGenerator<FindResponse>): Promise<FindResponse[]> {
  const out: FindResponse[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('C-FIND SCP (PS3.4 C.4.1.3.1)', () => {
  it('one Pending per match across search pages, then Success', async () => {
    const { search, study } = await searchOver({ maxCandidates: 100, maxLimit: 2 });
    const responses = await collect(
      performFind(search, {
        model: 'STUDY',
        identifier: seriesQuery(study.studyInstanceUID),
        signal: new AbortController().signal,
        aeTitle: 'A',
      }),
    );
    expect(responses.map((r) => r.status)).toEqual([0xff00, 0xff00, 0xff00, 0x0000]);
    expect(new Set(responses.slice(0, 3).map((r) => r.identifier![Tag.SeriesInstanceUID]!.Value![0])).size).toBe(3);
  });

  it('[dimse.cfind-scp.fe00] Cancel (FE00) ends the matching', async () => {
    const { search, study } = await searchOver({ maxCandidates: 100, maxLimit: 100 });
    const controller = new AbortController();
    const out: number[] = [];
    for await (const r of performFind(search, {
      model: 'STUDY',
      identifier: seriesQuery(study.studyInstanceUID),
      signal: controller.signal,
      aeTitle: 'A',
    })) {
      out.push(r.status);
      controller.abort();
    }
    expect(out).toEqual([0xff00, 0xfe00]);
  });

  it('[dimse.cfind-scp.a700] A700 when the search would read too many index entries', async () => {
    const { search } = await searchOver({ maxCandidates: 1, maxLimit: 100 });
    const identifier: DicomJson = {
      [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: ['SERIES'] },
      [Tag.Modality]: { vr: 'CS', Value: ['CT'] },
    };
    const responses = await collect(
      performFind(search, { model: 'STUDY', identifier, signal: new AbortController().signal, aeTitle: 'A' }),
    );
    expect(responses.map((r) => r.status)).toEqual([0xa700]);
  });

  it('[dimse.cfind-scp.c000] C000 when the index cannot be read', async () => {
    const broken = new SearchService(
      {
        query: () => {
          throw new Error('index down');
        },
      } as unknown as ConstructorParameters<typeof SearchService>[0],
      { maxCandidates: 10, defaultLimit: 10, maxLimit: 10 },
    );
    const responses = await collect(
      performFind(broken, { model: 'STUDY', identifier: seriesQuery('1.2.3'), signal: new AbortController().signal, aeTitle: 'A' }),
    );
    expect(responses).toEqual([{ status: 0xc000, comment: 'the query could not be processed' }]);
  });
});
