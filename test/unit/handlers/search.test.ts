/**
 * Unit: the Search handler's page fits the buffered function's response (lambdas/handlers/search.ts):
 * a search of 5,000 instances with includefield=all, whose results together pass Lambda's 6 MB
 * payload, answers the results that fit with the Warning of PS3.18 8.3.4.4.1, and the pages that
 * offset asks for return every match once.
 */
import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_PAYLOAD_BYTES } from '../../../lambdas/config';
import { Tag } from '../../../lambdas/dicom/tags';
import { buildIndexEntries } from '../../../lambdas/dicomweb/index-entries';
import { SearchService } from '../../../lambdas/dicomweb/search';
import { bodyOf } from '../../../lambdas/dicomweb/messages';
import type { DicomwebRequest } from '../../../lambdas/http/request';
import { toProxyResult } from '../../../lambdas/http/proxy';
import { operations } from '../../../lambdas/handlers/search';
import type { DicomJson } from '../../../lambdas/dicom/json';
import { MemoryMetadataIndex } from '../../support/memory-index';

const BASE_URL = 'https://api.example/prod';
const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = `${STUDY}.1`;
const COUNT = 5_000;
const WARNING = /^299 api\.example "There are (\d+) additional results that can be requested"$/;

/** 5,000 instances of one series, each with a Study Description of 20 values (about 1.3 KB). */
async function seededIndex(): Promise<MemoryMetadataIndex> {
  const index = new MemoryMetadataIndex();
  for (let i = 1; i <= COUNT; i++) {
    const dataset: DicomJson = {
      [Tag.SOPClassUID]: { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
      [Tag.SOPInstanceUID]: { vr: 'UI', Value: [`${SERIES}.${i}`] },
      [Tag.StudyInstanceUID]: { vr: 'UI', Value: [STUDY] },
      [Tag.SeriesInstanceUID]: { vr: 'UI', Value: [SERIES] },
      [Tag.PatientID]: { vr: 'LO', Value: ['P1'] },
      [Tag.Modality]: { vr: 'CS', Value: ['CT'] },
      [Tag.InstanceNumber]: { vr: 'IS', Value: [i] },
      [Tag.StudyDescription]: { vr: 'LO', Value: Array.from({ length: 20 }, (_, k) => `description ${k} `.padEnd(64, 'x')) },
    };
    const entries = buildIndexEntries(dataset, {
      sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      objectKey: `${i}.dcm`,
      metadataKey: `${i}.json`,
      size: 100,
      digest: String(i),
      numberOfFrames: 1,
    });
    await index.putInstance(entries.instance);
    if (i === 1) {
      await index.ensureStudy(entries.study);
      await index.ensureSeries(entries.series);
    }
  }
  return index;
}

function request(offset: number): DicomwebRequest {
  return {
    method: 'GET',
    path: `/studies/${STUDY}/series/${SERIES}/instances`,
    resource: '/studies/{study}/series/{series}/instances',
    pathParameters: { study: STUDY, series: SERIES },
    query: new Map([
      ['includefield', ['all']],
      ['limit', [String(COUNT)]],
      ['offset', [String(offset)]],
    ]),
    headers: {},
    body: bodyOf(new Uint8Array()),
    baseUrl: BASE_URL,
  };
}

describe('SearchForInstances with includefield=all', () => {
  it("answers every page within Lambda's 6 MB buffered payload, with the number remaining, and offset reaches every match once", async () => {
    const search = new SearchService(await seededIndex(), { maxCandidates: 20_000, defaultLimit: 1_000, maxLimit: COUNT });
    const seen: string[] = [];
    let pages = 0;
    for (let offset = 0; ;) {
      const response = await operations.SearchForInstances!(request(offset), { search });
      // The buffered function's payload: the proxy result serialized as JSON (lib/local/lambda-limits.ts).
      const payload = Buffer.byteLength(JSON.stringify(await toProxyResult(response, false)));
      expect(payload).toBeLessThanOrEqual(LAMBDA_MAX_PAYLOAD_BYTES);
      const results = JSON.parse(response.body as string) as DicomJson[];
      seen.push(...results.map((r) => r[Tag.SOPInstanceUID]!.Value![0] as string));
      pages++;
      offset += results.length;
      const warning = response.headers?.Warning;
      if (offset === COUNT) {
        expect(warning).toBeUndefined();
        break;
      }
      expect(warning).toMatch(WARNING);
      expect(Number(WARNING.exec(warning!)![1])).toBe(COUNT - offset);
    }
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(COUNT);
  }, 60_000);
});
