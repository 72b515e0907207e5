/** upload-parts: which spans count as received, over as many parts as S3 allows. */
import { describe, expect, it } from 'vitest';
import { partSpans, receivedPart, receivedParts, resultUnder } from '../../../lambdas/dicomweb/upload-parts';

describe('receivedPart', () => {
  it('counts a part received only at its span length', () => {
    const spans = partSpans(25, 10); // 10, 10, 5
    const held = receivedParts([
      { partNumber: 1, size: 10, etag: 'a' },
      { partNumber: 2, size: 9, etag: 'b' },
      { partNumber: 3, size: 5, etag: 'c' },
    ]);
    expect(spans.map((s) => receivedPart(s, held)?.etag)).toEqual(['a', undefined, 'c']);
    expect(receivedPart(spans[0]!, receivedParts(undefined))).toBeUndefined();
  });
  it('finds each of 10,000 parts, received in any order', () => {
    const spans = partSpans(10_000 * 5, 5);
    const parts = spans.map((s) => ({ partNumber: s.partNumber, size: s.length, etag: `e${s.partNumber}` })).reverse();
    parts.splice(1234, 1); // part 8766 missing
    const held = receivedParts(parts);
    const missing = spans.filter((s) => !receivedPart(s, held)).map((s) => s.partNumber);
    expect(missing).toEqual([8766]);
  });
});

describe('resultUnder', () => {
  const url = (v: string) => ({ vr: 'UR', Value: [v] });
  const recorded = {
    status: 200,
    response: {
      '00081190': url('/studies/1.2'),
      '00081199': {
        vr: 'SQ',
        Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3'] }, '00081190': url('/studies/1.2/series/3/instances/1.2.3') }],
      },
    },
  };
  it('answers the recorded Retrieve URLs under the asking request base URL, wherever they are', () => {
    const answer = resultUnder(recorded, 'https://pacs.example/dicomweb/');
    expect(answer.response['00081190']).toEqual(url('https://pacs.example/dicomweb/studies/1.2'));
    const item = (answer.response['00081199']!.Value as Record<string, unknown>[])[0]!;
    expect(item['00081190']).toEqual(url('https://pacs.example/dicomweb/studies/1.2/series/3/instances/1.2.3'));
    expect(item['00081155']).toEqual({ vr: 'UI', Value: ['1.2.3'] });
    expect(recorded.response['00081190']).toEqual(url('/studies/1.2')); // the record itself unchanged
  });
  it('leaves URLs recorded absolute as they are', () => {
    const old = { status: 200, response: { '00081190': url('http://127.0.0.1:8042/studies/1.2') } };
    expect(resultUnder(old, 'https://pacs.example').response).toEqual(old.response);
  });
});
