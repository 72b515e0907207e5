/**
 * Image instances with real pixel data for the rendered and thumbnail resources (the bench's
 * test/bench/rendered.ts, the render bundle's test in test/cdk/bundles.test.ts): a 512x512 12-bit CT
 * slice, natively or as JPEG 2000 lossless (the OpenJPEG encoder of @cornerstonejs/codec-openjpeg), and an
 * RGB ultrasound multi-frame.
 */
import { createRequire } from 'node:module';
import type { DataSet } from '../../lambdas/dicom/data-set';
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { Tag } from '../../lambdas/dicom/tags';
import { SopClass, TransferSyntax, newUid } from '../../lambdas/dicom/uid';
import { dataSet } from './dicom-factory';

export interface ImageUids {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
}

export const freshUids = (): ImageUids => ({ studyInstanceUID: newUid(), seriesInstanceUID: newUid(), sopInstanceUID: newUid() });

export const CT_SLICE = { rows: 512, columns: 512 } as const;
export const US_CINE = { rows: 480, columns: 640, frames: 2 } as const;

/**
 * A CT-like slice: air around a body ellipse of soft tissue (40 HU) with two lungs (-800 HU) and a
 * bone ring (700 HU), and some noise; stored values are HU + 1024 in 12 bits (Rescale Intercept -1024).
 */
export function ctPixels(): Uint16Array {
  const px = new Uint16Array(CT_SLICE.rows * CT_SLICE.columns);
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 41) - 20;
  for (let y = 0; y < CT_SLICE.rows; y++) {
    for (let x = 0; x < CT_SLICE.columns; x++) {
      const dx = (x - 256) / 220;
      const dy = (y - 256) / 170;
      const r = dx * dx + dy * dy;
      const lung = ((x - 180) / 60) ** 2 + ((y - 240) / 90) ** 2 < 1 || ((x - 332) / 60) ** 2 + ((y - 240) / 90) ** 2 < 1;
      const hu = r > 1 ? -1024 : r > 0.9 ? 700 : lung ? -800 : 40;
      px[y * CT_SLICE.columns + x] = Math.max(0, Math.min(4095, hu + 1024 + (r > 1 ? 0 : noise())));
    }
  }
  return px;
}

/** An ultrasound-like RGB frame: a grey sector with a coloured (Doppler-like) patch, varying by frame. */
export function usFrames(): Uint8Array {
  const frameBytes = US_CINE.rows * US_CINE.columns * 3;
  const out = new Uint8Array(frameBytes * US_CINE.frames);
  for (let f = 0; f < US_CINE.frames; f++) {
    for (let y = 0; y < US_CINE.rows; y++) {
      for (let x = 0; x < US_CINE.columns; x++) {
        const i = f * frameBytes + (y * US_CINE.columns + x) * 3;
        const inSector = Math.abs(x - 320) < y * 0.8 && y > 20;
        const grey = inSector ? (x * 7 + y * 3 + f * 11) & 0xff : 0;
        const doppler = inSector && (x - 320) ** 2 + (y - 240) ** 2 < 60 ** 2;
        out[i] = doppler ? 220 : grey;
        out[i + 1] = doppler ? 40 : grey;
        out[i + 2] = doppler ? 40 + f * 20 : grey;
      }
    }
  }
  return out;
}

/** The JPEG 2000 codestream (PS3.5 A.4.4: no JP2 header) of the CT slice, reversible (lossless). */
export async function jpeg2000Lossless(px: Uint16Array): Promise<Uint8Array> {
  const factory = createRequire(import.meta.url)('@cornerstonejs/codec-openjpeg/wasmjs') as () => Promise<OpenJpegModule>;
  const codec = await factory();
  const encoder = new codec.J2KEncoder();
  const input = encoder.getDecodedBuffer({
    width: CT_SLICE.columns,
    height: CT_SLICE.rows,
    bitsPerSample: 16,
    componentCount: 1,
    isSigned: false,
    isUsingColorTransform: false,
  });
  input.set(new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
  encoder.setQuality(true, 0);
  encoder.encode();
  const out = new Uint8Array(encoder.getEncodedBuffer()); // a copy: the view is into the module's memory
  encoder.delete();
  return out;
}

interface OpenJpegModule {
  J2KEncoder: new () => {
    getDecodedBuffer(info: Record<string, number | boolean>): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    setQuality(lossless: boolean, quality: number): void;
    encode(): void;
    delete(): void;
  };
}

/** A Part 10 file of one image: its UIDs, a patient and study of the bench, `attributes`, the Pixel Data. */
export function imageInstance(uids: ImageUids, attributes: Record<string, unknown>, pixelData: DataSet[string], transferSyntaxUID: string) {
  const dict = dataSet({
    SpecificCharacterSet: 'ISO_IR 192',
    SOPInstanceUID: uids.sopInstanceUID,
    StudyInstanceUID: uids.studyInstanceUID,
    SeriesInstanceUID: uids.seriesInstanceUID,
    PatientName: 'Bench^Rendered',
    PatientID: 'RENDERED',
    StudyDate: '20240115',
    StudyTime: '101500',
    AccessionNumber: 'RENDERED',
    StudyID: 'RENDERED',
    ReferringPhysicianName: '',
    SeriesNumber: 1,
    ...attributes,
  });
  dict[Tag.PixelData] = pixelData;
  return newPart10(dict, transferSyntaxUID);
}

/** The CT attributes of a 512x512 slice of ctPixels (window 40/400 HU). */
const CT_ATTRIBUTES = {
  SOPClassUID: SopClass.CTImageStorage,
  Modality: 'CT',
  SamplesPerPixel: 1,
  PhotometricInterpretation: 'MONOCHROME2',
  Rows: CT_SLICE.rows,
  Columns: CT_SLICE.columns,
  BitsAllocated: 16,
  BitsStored: 12,
  HighBit: 11,
  PixelRepresentation: 0,
  RescaleIntercept: -1024,
  RescaleSlope: 1,
  RescaleType: 'HU',
  WindowCenter: 40,
  WindowWidth: 400,
};

/** A CT slice, Explicit VR Little Endian or (given its codestream, jpeg2000Lossless) JPEG 2000 lossless. */
export function ctInstance(uids: ImageUids, pixels: Uint16Array, codestream?: Uint8Array, instanceNumber = 1): Uint8Array {
  const attributes = { ...CT_ATTRIBUTES, InstanceNumber: instanceNumber };
  return codestream
    ? imageInstance(uids, attributes, { vr: 'OB', Value: [codestream.slice().buffer] }, TransferSyntax.JPEG2000Lossless)
    : imageInstance(uids, attributes, { vr: 'OW', Value: [pixels.slice().buffer] }, TransferSyntax.ExplicitVRLittleEndian);
}

/** An RGB ultrasound multi-frame of usFrames, Explicit VR Little Endian. */
export function usInstance(uids: ImageUids, frames: Uint8Array, instanceNumber = 1): Uint8Array {
  const attributes = {
    SOPClassUID: SopClass.UltrasoundMultiFrameImageStorage,
    Modality: 'US',
    InstanceNumber: instanceNumber,
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    NumberOfFrames: US_CINE.frames,
    Rows: US_CINE.rows,
    Columns: US_CINE.columns,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
  };
  return imageInstance(uids, attributes, { vr: 'OB', Value: [frames.slice().buffer] }, TransferSyntax.ExplicitVRLittleEndian);
}
