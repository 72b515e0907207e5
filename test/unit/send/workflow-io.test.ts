import { describe, expect, it } from 'vitest';
import { parseManifestJsonLines, toManifestJsonLines, type ManifestItem } from '../../../lambdas/send/workflow-io';

const items: ManifestItem[] = [
  { studyInstanceUID: '1.2', seriesInstanceUID: '1.2.1', sopInstanceUID: '1.2.1.1', sopClassUID: '1.2.840.10008.5.1.4.1.1.2' },
  { studyInstanceUID: '1.2', seriesInstanceUID: '1.2.1', sopInstanceUID: '1.2.1.2', sopClassUID: '1.2.840.10008.5.1.4.1.1.2' },
];

describe('send manifest (JSON Lines, read by the Distributed Map ItemReader)', () => {
  it('writes one JSON object per line and reads it back', () => {
    const text = toManifestJsonLines(items);
    expect(text.split('\n')).toHaveLength(3);
    expect(JSON.parse(text.split('\n')[0]!)).toEqual(items[0]);
    expect(parseManifestJsonLines(text)).toEqual(items);
  });

  it('keeps only the manifest fields and refuses a line that is not an item', () => {
    const extra = { ...items[0]!, patientName: 'DOE^JOHN' } as ManifestItem;
    expect(toManifestJsonLines([extra])).not.toContain('DOE');
    expect(() => parseManifestJsonLines('{"sopInstanceUID":"1"}\n')).toThrow(/line 1/);
  });

  it('reads an empty manifest as no items', () => {
    expect(parseManifestJsonLines('')).toEqual([]);
  });
});
