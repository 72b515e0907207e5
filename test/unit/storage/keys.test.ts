import { describe, expect, it } from 'vitest';
import { InvalidKeySegmentError } from '../../../lambdas/storage/errors';
import { derivedImageKey, instanceMetadataKey, instanceObjectKey, objectVersion, sendManifestKey } from '../../../lambdas/storage/keys';

describe('S3 object keys (docs/architecture.md, storage model)', () => {
  it('files the Part 10 object and its metadata side by side under study/series/instance, per write', () => {
    expect(instanceObjectKey('1.2.3', '1.2.3.4', '1.2.3.4.5', 'v1')).toBe('studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5.v1.dcm');
    expect(instanceMetadataKey('1.2.3', '1.2.3.4', '1.2.3.4.5', 'v1')).toBe('studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5.v1.json');
  });

  it('gives every write of an instance its own version, which names the content', () => {
    const digest = 'ab'.repeat(32);
    const versions = new Set(Array.from({ length: 100 }, () => objectVersion(digest)));
    expect(versions.size).toBe(100);
    for (const v of versions) expect(v).toMatch(/^abababababababab-[0-9a-f]{8}$/);
  });

  it('keys the Send manifest by Transaction UID', () => {
    expect(sendManifestKey('2.25.99')).toBe('send-requests/2.25.99/manifest.jsonl');
  });

  it.each([
    ['a slash', '1.2/3'],
    ['a parent reference', '..'],
    ['a double dot inside', '1..2'],
    ['an empty UID', ''],
  ])('refuses a UID with %s (defence in depth)', (_why, bad) => {
    expect(() => instanceObjectKey(bad, '1.2', '1.3', 'v1')).toThrow(InvalidKeySegmentError);
    expect(() => instanceObjectKey('1.1', bad, '1.3', 'v1')).toThrow(InvalidKeySegmentError);
    expect(() => instanceMetadataKey('1.1', '1.2', bad, 'v1')).toThrow(InvalidKeySegmentError);
    expect(() => instanceObjectKey('1.1', '1.2', '1.3', bad)).toThrow(InvalidKeySegmentError);
    expect(() => sendManifestKey(bad)).toThrow(InvalidKeySegmentError);
  });
});

describe('derived image keys', () => {
  it('sit beside the instance object they derive from, versioned with it', () => {
    const object = instanceObjectKey('1.2', '3.4', '5.6', 'abc-01');
    expect(derivedImageKey(object, 'thumbnail.jpg')).toBe('studies/1.2/series/3.4/instances/5.6.abc-01.derived.thumbnail.jpg');
    // An object written without a version by an earlier release.
    expect(derivedImageKey('studies/1.2/series/3.4/instances/5.6.dcm', 'thumbnail.png')).toBe(
      'studies/1.2/series/3.4/instances/5.6.derived.thumbnail.png',
    );
  });

  it('refuse a name that could leave the instance', () => {
    for (const name of ['', '../x', 'a/b', '.hidden', 'Thumb.JPG'])
      expect(() => derivedImageKey('studies/1/x.dcm', name), name).toThrow(InvalidKeySegmentError);
  });
});
