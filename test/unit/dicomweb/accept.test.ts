import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TRANSFER_SYNTAX,
  mediaRangeMatches,
  negotiateInstance,
  negotiateInstances,
  negotiateMetadata,
  negotiateOctetStream,
  parseAccept,
} from '../../../lambdas/dicomweb/accept';
import { BadRequestError, NotAcceptableError } from '../../../lambdas/dicomweb/errors';

const EVRLE = '1.2.840.10008.1.2.1';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

describe('parseAccept', () => {
  it('treats an absent Accept as */* (RFC 9110 12.5.1)', () => {
    expect(parseAccept({ accept: undefined })).toEqual([{ mediaType: '*/*', q: 1 }]);
    expect(parseAccept({ accept: '  ' })).toEqual([{ mediaType: '*/*', q: 1 }]);
  });

  it('reads the type and transfer-syntax parameters, keeping commas inside quotes', () => {
    const ranges = parseAccept({
      accept: `multipart/related; type="application/dicom"; transfer-syntax=${JPEG_BASELINE}, application/x-odd; note="a,b"`,
    });
    expect(ranges).toEqual([
      { mediaType: 'multipart/related', type: 'application/dicom', transferSyntax: JPEG_BASELINE, q: 1 },
      { mediaType: 'application/x-odd', q: 1 },
    ]);
  });

  it('ranks by q, then by specificity, then by order, and drops q=0', () => {
    const ranges = parseAccept({ accept: '*/*;q=0.1, application/json;q=0.5, application/*;q=0.5, text/html;q=0, application/dicom+json' });
    expect(ranges.map((r) => r.mediaType)).toEqual(['application/dicom+json', 'application/json', 'application/*', '*/*']);
  });

  it('lets the accept query parameter replace the header (PS3.18 8.3.3.1)', () => {
    const ranges = parseAccept({ accept: 'application/dicom+json', acceptQuery: 'application/json' });
    expect(ranges.map((r) => r.mediaType)).toEqual(['application/json']);
  });

  it('rejects a malformed quality value, media type or transfer syntax with 400', () => {
    expect(() => parseAccept({ accept: 'application/json;q=2' })).toThrow(BadRequestError);
    expect(() => parseAccept({ accept: 'application/json;q=abc' })).toThrow(BadRequestError);
    expect(() => parseAccept({ accept: 'not-a-media-type' })).toThrow(BadRequestError);
    expect(() => parseAccept({ accept: 'multipart/related; type="application/dicom"; transfer-syntax=jpeg' })).toThrow(BadRequestError);
  });
});

describe('mediaRangeMatches', () => {
  it('matches full wildcards, subtype wildcards and exact types only', () => {
    expect(mediaRangeMatches('*/*', 'application/dicom')).toBe(true);
    expect(mediaRangeMatches('application/*', 'application/dicom')).toBe(true);
    expect(mediaRangeMatches('image/*', 'application/dicom')).toBe(false);
    expect(mediaRangeMatches('application/dicom', 'application/dicom')).toBe(true);
    expect(mediaRangeMatches('application/dicom', 'application/dicom+json')).toBe(false);
  });
});

describe('negotiateInstances', () => {
  it('defaults to Explicit VR Little Endian when no transfer syntax is named (PS3.18 8.7.3.5.2)', () => {
    expect(DEFAULT_TRANSFER_SYNTAX).toBe(EVRLE);
    expect(negotiateInstances({ accept: undefined })).toEqual([EVRLE]);
    expect(negotiateInstances({ accept: 'multipart/related; type="application/dicom"' })).toEqual([EVRLE]);
    expect(negotiateInstances({ accept: 'multipart/*' })).toEqual([EVRLE]);
  });

  it('returns the named transfer syntaxes in order of preference', () => {
    const accept = `multipart/related; type="application/dicom"; transfer-syntax=*;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=${JPEG_BASELINE}`;
    expect(negotiateInstances({ accept })).toEqual([JPEG_BASELINE, '*']);
  });

  it('ignores ranges for other part types and answers 406 with what it can produce', () => {
    const accept = 'multipart/related; type="application/octet-stream", application/dicom+json';
    const error = thrown(() => negotiateInstances({ accept }));
    expect(error).toBeInstanceOf(NotAcceptableError);
    expect((error as NotAcceptableError).details[0]?.message).toContain('type="application/dicom"');
  });
});

describe('negotiateInstance (PS3.18 10.4.4: single part application/dicom for an Instance resource)', () => {
  it('answers single part for application/dicom, with its transfer syntaxes in order of preference', () => {
    expect(negotiateInstance({ accept: 'application/dicom' })).toEqual({ singlePart: true, syntaxes: [EVRLE] });
    expect(
      negotiateInstance({ accept: `application/dicom; transfer-syntax=*, application/dicom; transfer-syntax=${JPEG_BASELINE};q=0.5` }),
    ).toEqual({
      singlePart: true,
      syntaxes: ['*', JPEG_BASELINE],
    });
    expect(negotiateInstance({ accept: 'application/*', acceptQuery: 'application/dicom; transfer-syntax=*' })).toEqual({
      singlePart: true,
      syntaxes: ['*'],
    });
  });

  it('keeps multipart/related for no Accept, */* and a preferred multipart range', () => {
    expect(negotiateInstance({ accept: undefined })).toEqual({ singlePart: false, syntaxes: [EVRLE] });
    expect(negotiateInstance({ accept: '*/*' })).toEqual({ singlePart: false, syntaxes: [EVRLE] });
    const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*, application/dicom;q=0.9';
    expect(negotiateInstance({ accept })).toEqual({ singlePart: false, syntaxes: ['*'] });
    expect(negotiateInstance({ accept: 'application/dicom;q=0.5, multipart/related; type="application/dicom"' }).singlePart).toBe(false);
  });

  it('answers 406 naming both forms when neither is acceptable', () => {
    const error = thrown(() => negotiateInstance({ accept: 'application/dicom+json' }));
    expect(error).toBeInstanceOf(NotAcceptableError);
    expect((error as NotAcceptableError).details[0]?.message).toMatch(/as application\/dicom \(single part\) or multipart/);
  });

  it('ignores single part ranges for a study or series (negotiateInstances): 406 when nothing else is left', () => {
    expect(() => negotiateInstances({ accept: 'application/dicom' })).toThrow(NotAcceptableError);
  });
});

describe('negotiateOctetStream', () => {
  it('accepts multipart/related of application/octet-stream, with * or a UID', () => {
    expect(negotiateOctetStream({ accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' })).toEqual(['*']);
    expect(negotiateOctetStream({ accept: 'multipart/related; type="application/octet-stream"' })).toEqual([EVRLE]);
  });

  it('answers 406 for single-part or DICOM requests', () => {
    expect(() => negotiateOctetStream({ accept: 'multipart/related; type="application/dicom"' })).toThrow(NotAcceptableError);
    expect(() => negotiateOctetStream({ accept: 'image/jpeg' })).toThrow(NotAcceptableError);
  });
});

describe('negotiateMetadata', () => {
  it('answers application/dicom+json for it and for wildcards, application/json for a client asking only that', () => {
    expect(negotiateMetadata({ accept: undefined })).toBe('application/dicom+json');
    expect(negotiateMetadata({ accept: 'application/*' })).toBe('application/dicom+json');
    expect(negotiateMetadata({ accept: 'application/json' })).toBe('application/json');
    expect(negotiateMetadata({ accept: 'application/json;q=0.5, application/dicom+json' })).toBe('application/dicom+json');
  });

  it('answers 406 for anything else', () => {
    expect(() => negotiateMetadata({ accept: 'multipart/related; type="application/dicom"' })).toThrow(NotAcceptableError);
    expect(() => negotiateMetadata({ accept: 'application/dicom+json;q=0' })).toThrow(NotAcceptableError);
  });
});
