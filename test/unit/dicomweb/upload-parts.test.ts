/** upload-parts: which spans count as received, over as many parts as S3 allows. */
import { describe, expect, it } from 'vitest';
import { partSpans, receivedPart, receivedParts } from '../../../lambdas/dicomweb/upload-parts';

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
