import { describe, expect, it } from 'vitest';
import { tagOf } from '../../../lambdas/dicom/dictionary';
import { Tag } from '../../../lambdas/dicom/tags';
import { requireNpiCategory } from '../../../lambdas/dicomweb/npi-categories';
import { npiIndexedTags, npiMatchableTags } from '../../../lambdas/dicomweb/npi-keys';

describe('NPI matching keys as tags (Sup 248 Table 12.X.1-2)', () => {
  it("match on SOP Class/Instance UID and the category's own keys, sequence paths included", () => {
    const hp = npiMatchableTags(requireNpiCategory('hanging-protocols'));
    expect(hp.has(Tag.SOPInstanceUID)).toBe(true);
    expect(hp.has(tagOf('HangingProtocolName')!)).toBe(true);
    expect(hp.has(`${tagOf('HangingProtocolDefinitionSequence')}.${Tag.Modality}`)).toBe(true);
    expect(hp.has(Tag.PatientID)).toBe(false);
    expect(npiMatchableTags(requireNpiCategory('color-palettes')).has(tagOf('HangingProtocolName')!)).toBe(false);
  });

  it('index the top-level attribute of every key path', () => {
    const indexed = npiIndexedTags(requireNpiCategory('protocol-approvals'));
    expect(indexed).toContain(tagOf('ApprovalSubjectSequence'));
    expect(indexed).toContain(Tag.SOPClassUID);
    expect(indexed.every((t) => /^[0-9A-F]{8}$/.test(t))).toBe(true);
  });
});
