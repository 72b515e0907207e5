/** The transforms a data set declares (PS3.3 C.11), per frame through its functional groups (C.7.6.16). */
import { describe, expect, it } from 'vitest';
import { dataSet } from '../../../../lambdas/dicom/data-set';
import { imagePixelOf } from '../../../../lambdas/dicom/render/image';
import { grayscaleTransforms, lookupTable } from '../../../../lambdas/dicom/render/luts';

const pixel = { Rows: 2, Columns: 2, BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 1, SamplesPerPixel: 1 };
const of = (attributes: Record<string, unknown>, frame = 0) => {
  const dict = dataSet({ PhotometricInterpretation: 'MONOCHROME2', ...pixel, ...attributes });
  return grayscaleTransforms(dict, imagePixelOf(dict), frame);
};

describe('grayscaleTransforms', () => {
  it('takes Rescale Slope/Intercept and the first of several windows with its VOI LUT Function', () => {
    const t = of({
      RescaleSlope: 2,
      RescaleIntercept: -1024,
      WindowCenter: [40, 300],
      WindowWidth: [400, 1500],
      VOILUTFunction: 'SIGMOID',
    });
    expect(t).toEqual({
      modality: { kind: 'rescale', slope: 2, intercept: -1024 },
      voi: { kind: 'window', center: 40, width: 400, function: 'SIGMOID' },
      inverse: false,
    });
  });
  it('defaults to the identity rescale and no VOI (min-max) when none is declared', () => {
    expect(of({})).toEqual({ modality: { kind: 'rescale', slope: 1, intercept: 0 }, voi: undefined, inverse: false });
  });
  it('ignores a LINEAR window narrower than 1 (C.11.2.1.2.1: Window Width >= 1)', () => {
    expect(of({ WindowCenter: 10, WindowWidth: 0.5 }).voi).toBeUndefined();
    expect(of({ WindowCenter: 10, WindowWidth: 0.5, VOILUTFunction: 'LINEAR_EXACT' }).voi).toMatchObject({ width: 0.5 });
  });
  it('reads a Modality LUT Sequence and a VOI LUT Sequence, first mapped value signed for signed pixels', () => {
    const t = of({
      ModalityLUTSequence: [{ LUTDescriptor: [3, 0xfffe, 16], LUTData: [5, 6, 7] }],
      VOILUTSequence: [{ LUTDescriptor: [2, 5, 8], LUTData: [0, 255] }],
    });
    expect(t.modality).toEqual({ kind: 'lut', lut: { first: -2, data: Uint16Array.of(5, 6, 7), bits: 16 } });
    expect(t.voi).toEqual({ kind: 'lut', lut: { first: 5, data: Uint16Array.of(0, 255), bits: 8 } });
  });
  it('inverts MONOCHROME1 and Presentation LUT Shape INVERSE, not both at once', () => {
    expect(of({ PhotometricInterpretation: 'MONOCHROME1' }).inverse).toBe(true);
    expect(of({ PresentationLUTShape: 'INVERSE' }).inverse).toBe(true);
    expect(of({ PhotometricInterpretation: 'MONOCHROME1', PresentationLUTShape: 'INVERSE' }).inverse).toBe(true);
    expect(of({ PresentationLUTShape: 'IDENTITY' }).inverse).toBe(false);
  });
  it('reads a frame its Per-Frame functional groups, else the Shared ones (Enhanced CT/MR)', () => {
    const enhanced = {
      NumberOfFrames: 2,
      SharedFunctionalGroupsSequence: [{ PixelValueTransformationSequence: [{ RescaleSlope: 1, RescaleIntercept: -1024 }] }],
      PerFrameFunctionalGroupsSequence: [
        { FrameVOILUTSequence: [{ WindowCenter: 40, WindowWidth: 400 }] },
        { FrameVOILUTSequence: [{ WindowCenter: -600, WindowWidth: 1200, VOILUTFunction: 'LINEAR_EXACT' }] },
      ],
      WindowCenter: 1,
      WindowWidth: 2,
    };
    expect(of(enhanced, 0)).toMatchObject({ modality: { intercept: -1024 }, voi: { center: 40, width: 400, function: 'LINEAR' } });
    expect(of(enhanced, 1)).toMatchObject({ modality: { intercept: -1024 }, voi: { center: -600, width: 1200, function: 'LINEAR_EXACT' } });
  });

  it('reads a frame VOI LUT Sequence inside its Frame VOI LUT item (Frame VOI LUT With LUT Macro)', () => {
    const t = of({
      NumberOfFrames: 1,
      SharedFunctionalGroupsSequence: [{ FrameVOILUTSequence: [{ VOILUTSequence: [{ LUTDescriptor: [2, 0, 8], LUTData: [0, 255] }] }] }],
    });
    expect(t.voi).toEqual({ kind: 'lut', lut: { first: 0, data: Uint16Array.of(0, 255), bits: 8 } });
  });
});

describe('lookupTable', () => {
  it('reads 65536 entries for a descriptor of 0 entries, and refuses data shorter than the descriptor', () => {
    const full = lookupTable(
      { '00283002': { vr: 'US', Value: [0, 0, 16] }, '00283006': { vr: 'OW', Value: [new ArrayBuffer(131072)] } },
      false,
    );
    expect(full?.data.length).toBe(65536);
    expect(lookupTable({ '00283002': { vr: 'US', Value: [4, 0, 16] }, '00283006': { vr: 'US', Value: [1, 2] } }, false)).toBeUndefined();
  });
});
