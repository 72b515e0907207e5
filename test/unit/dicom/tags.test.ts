import { describe, expect, it } from 'vitest';
import { keywordOf, tagOf } from '../../../lambdas/dicom/dictionary';
import { Tag } from '../../../lambdas/dicom/tags';

describe('Tag constants', () => {
  it('agree with the data dictionary for every keyword', () => {
    for (const [keyword, tag] of Object.entries(Tag)) {
      expect(tag, keyword).toMatch(/^[0-9A-F]{8}$/);
      expect(tagOf(keyword), keyword).toBe(tag);
      expect(keywordOf(tag), tag).toBe(keyword);
    }
  });
});
