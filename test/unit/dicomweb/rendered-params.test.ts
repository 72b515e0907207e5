import { describe, expect, it } from 'vitest';
import { BadRequestError, NotAcceptableError } from '../../../lambdas/dicomweb/errors';
import {
  negotiateRendered,
  normalisedParameters,
  parseRenderedParameters,
  parseViewport,
  parseWindow,
} from '../../../lambdas/dicomweb/rendered-params';

const query = (entries: Record<string, string | string[]>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function badRequestTarget(fn: () => unknown): string | undefined {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(BadRequestError);
  return (error as BadRequestError).details[0]?.target;
}

describe('parseWindow (PS3.18 8.3.5.1.4)', () => {
  it('reads center, width and the VOI LUT Function', () => {
    expect(parseWindow('40,400,linear')).toEqual({ center: 40, width: 400, function: 'LINEAR' });
    expect(parseWindow('-600, 1500.5, LINEAR-EXACT')).toEqual({ center: -600, width: 1500.5, function: 'LINEAR_EXACT' });
    expect(parseWindow('0.5,0.5,sigmoid')).toEqual({ center: 0.5, width: 0.5, function: 'SIGMOID' });
  });

  it.each([
    '',
    '40',
    '40,400',
    '40,400,linear,x',
    'a,400,linear',
    '40,b,linear',
    '40,0,linear',
    '40,-1,sigmoid',
    '40,0.5,linear',
    '40,400,cubic',
    '40,,linear',
    '1e999,400,linear',
  ])('answers 400 for window=%j', (value) => {
    expect(badRequestTarget(() => parseRenderedParameters(query({ window: value }), 'rendered'))).toBe('window');
  });
});

describe('parseViewport (PS3.18 8.3.5.1.3)', () => {
  it('reads the viewport and an optional source region', () => {
    expect(parseViewport('256,128')).toEqual({ vw: 256, vh: 128 });
    expect(parseViewport('64,64,10,20,30,40')).toEqual({ vw: 64, vh: 64, region: { sx: 10, sy: 20, sw: 30, sh: 40 } });
    expect(parseViewport('64,64,10,20')).toEqual({ vw: 64, vh: 64, region: { sx: 10, sy: 20 } });
    expect(parseViewport('64,64,,,-30,40')).toEqual({ vw: 64, vh: 64, region: { sx: 0, sy: 0, sw: -30, sh: 40 } });
  });

  it.each([
    '',
    '64',
    '64,64,1',
    '64,64,1,2,3',
    '0,64',
    '64,0',
    '-1,64',
    '64,64.5',
    'a,64',
    ',64',
    '64,64,-1,0',
    '64,64,0,0,0,10',
    '9000,64',
    '64,64,1,2,3,4,5',
  ])('answers 400 for viewport=%j', (value) => {
    expect(badRequestTarget(() => parseRenderedParameters(query({ viewport: value }), 'rendered'))).toBe('viewport');
  });
});

describe('parseRenderedParameters', () => {
  it('has no rendering parameter by default', () => {
    expect(parseRenderedParameters(query({}), 'rendered')).toEqual({ annotation: [], iccProfile: 'no' });
  });

  it('reads quality, annotation and iccprofile', () => {
    expect(parseRenderedParameters(query({ quality: '75', annotation: 'technique,patient', iccprofile: 'yes' }), 'rendered')).toEqual({
      quality: 75,
      annotation: ['technique', 'patient'],
      iccProfile: 'srgb',
    });
    expect(parseRenderedParameters(query({ iccprofile: 'SRGB' }), 'rendered').iccProfile).toBe('srgb');
  });

  it.each([
    ['quality', '0'],
    ['quality', '101'],
    ['quality', '50.5'],
    ['quality', 'high'],
    ['annotation', 'patient,date'],
    ['annotation', ''],
    ['iccprofile', 'maybe'],
    ['iccprofile', 'adobergb'],
    ['iccprofile', 'rommrgb'],
    ['charset', 'utf 8;;'],
  ])('answers 400 for %s=%j', (name, value) => {
    expect(badRequestTarget(() => parseRenderedParameters(query({ [name]: value }), 'rendered'))).toBe(name);
  });

  it('answers 400 for a parameter given twice', () => {
    expect(badRequestTarget(() => parseRenderedParameters(query({ window: ['1,2,linear', '1,2,linear'] }), 'rendered'))).toBe('window');
  });

  it('keeps only the viewport of a thumbnail request, still checking it', () => {
    expect(parseRenderedParameters(query({ viewport: '64,64', window: '1,2,linear', quality: '5' }), 'thumbnail')).toEqual({
      viewport: { vw: 64, vh: 64 },
      annotation: [],
      iccProfile: 'no',
    });
    expect(badRequestTarget(() => parseRenderedParameters(query({ viewport: '0,0' }), 'thumbnail'))).toBe('viewport');
  });

  it('names the same rendering the same, however it is spelled', () => {
    const a = parseRenderedParameters(query({ window: '+40,400,LINEAR', annotation: 'technique,patient' }), 'rendered');
    const b = parseRenderedParameters(query({ window: '40.0,400,linear', annotation: 'patient,technique' }), 'rendered');
    expect(normalisedParameters(a, 'image/png')).toBe(normalisedParameters(b, 'image/png'));
    expect(normalisedParameters(a, 'image/png')).not.toBe(normalisedParameters(a, 'image/jpeg'));
  });
});

describe('negotiateRendered (PS3.18 8.7.4)', () => {
  it('prefers image/jpeg without an Accept, or for a range', () => {
    expect(negotiateRendered({ accept: undefined })[0]).toBe('image/jpeg');
    expect(negotiateRendered({ accept: '*/*' })[0]).toBe('image/jpeg');
    expect(negotiateRendered({ accept: 'image/*' })[0]).toBe('image/jpeg');
  });

  it('follows the quality values and the accept query parameter', () => {
    expect(negotiateRendered({ accept: 'image/jpeg;q=0.5, image/png' })).toEqual(['image/png', 'image/jpeg']);
    expect(negotiateRendered({ accept: 'image/jpeg', acceptQuery: 'image/gif' })).toEqual(['image/gif']);
    expect(negotiateRendered({ accept: 'multipart/related; type="image/png"' })).toEqual(['image/png']);
    expect(negotiateRendered({ accept: 'multipart/related' })[0]).toBe('image/jpeg');
  });

  it('answers 406 with a Status Report for any other media type', () => {
    for (const accept of ['application/dicom', 'image/jp2', 'video/mp4', 'multipart/related; type="application/dicom"', 'image/png;q=0']) {
      const error = thrown(() => negotiateRendered({ accept }));
      expect(error, accept).toBeInstanceOf(NotAcceptableError);
      expect((error as NotAcceptableError).details[0]?.message).toContain('image/jpeg');
    }
  });
});
