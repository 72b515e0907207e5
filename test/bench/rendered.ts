/**
 * The rendered and thumbnail workloads of `npm run bench` (PS3.18 10.4.1.1.3-4), sent by the same
 * client to every server compared: a 512x512 16-bit CT instance, the same pixels in JPEG 2000
 * (reversible, the OpenJPEG encoder of @cornerstonejs/codec-openjpeg) and a frame of an RGB ultrasound
 * multi-frame instance. Every answer must be 200 image/jpeg, and after the run every body is decoded
 * (sharp) and checked against the image's size and samples, so a figure is never the speed of an error
 * or of something that is not the image.
 */
import { createRequire } from 'node:module';
import sharp from 'sharp';
import type { DataSet } from '../../lambdas/dicom/data-set';
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { Tag } from '../../lambdas/dicom/tags';
import { SopClass, TransferSyntax, newUid } from '../../lambdas/dicom/uid';
import { dataSet } from '../support/dicom-factory';
import { measure, type Corpus, type Measurement, type StoredInstance } from './workloads';

export type RenderedKind = 'ct' | 'jpeg2000' | 'us';
export const RENDERED_KINDS: readonly RenderedKind[] = ['ct', 'jpeg2000', 'us'];
export type RenderedResource = 'rendered' | 'thumbnail';
export const RENDERED_RESOURCES: readonly RenderedResource[] = ['rendered', 'thumbnail'];

/** What each kind of instance is, and the frame the workload asks for (undefined: the instance resource). */
export const RENDERED_IMAGES: Readonly<
  Record<
    RenderedKind,
    { readonly label: string; readonly width: number; readonly height: number; readonly channels: 1 | 3; readonly frame?: number }
  >
> = {
  ct: { label: 'CT 512x512 16-bit', width: 512, height: 512, channels: 1 },
  jpeg2000: { label: 'CT 512x512 16-bit, JPEG 2000 lossless', width: 512, height: 512, channels: 1 },
  us: { label: 'US RGB 640x480, frame 2 of 2', width: 640, height: 480, channels: 3, frame: 2 },
};

const CT = { rows: 512, columns: 512 };
const US = { rows: 480, columns: 640, frames: 2 };

/**
 * A CT-like slice: air around a body ellipse of soft tissue (40 HU) with two lungs (-800 HU) and a
 * bone ring (700 HU), and some noise; stored values are HU + 1024 in 12 bits (Rescale Intercept -1024).
 */
function ctPixels(): Uint16Array {
  const px = new Uint16Array(CT.rows * CT.columns);
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 41) - 20;
  for (let y = 0; y < CT.rows; y++) {
    for (let x = 0; x < CT.columns; x++) {
      const dx = (x - 256) / 220;
      const dy = (y - 256) / 170;
      const r = dx * dx + dy * dy;
      const lung = ((x - 180) / 60) ** 2 + ((y - 240) / 90) ** 2 < 1 || ((x - 332) / 60) ** 2 + ((y - 240) / 90) ** 2 < 1;
      const hu = r > 1 ? -1024 : r > 0.9 ? 700 : lung ? -800 : 40;
      px[y * CT.columns + x] = Math.max(0, Math.min(4095, hu + 1024 + (r > 1 ? 0 : noise())));
    }
  }
  return px;
}

/** An ultrasound-like RGB frame: a grey sector with a coloured (Doppler-like) patch, varying by frame. */
function usFrames(): Uint8Array {
  const frameBytes = US.rows * US.columns * 3;
  const out = new Uint8Array(frameBytes * US.frames);
  for (let f = 0; f < US.frames; f++) {
    for (let y = 0; y < US.rows; y++) {
      for (let x = 0; x < US.columns; x++) {
        const i = f * frameBytes + (y * US.columns + x) * 3;
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
async function jpeg2000(px: Uint16Array): Promise<Uint8Array> {
  const factory = createRequire(import.meta.url)('@cornerstonejs/codec-openjpeg/wasmjs') as () => Promise<OpenJpegModule>;
  const codec = await factory();
  const encoder = new codec.J2KEncoder();
  const input = encoder.getDecodedBuffer({
    width: CT.columns,
    height: CT.rows,
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

function instance(uids: StoredInstance, attributes: Record<string, unknown>, pixelData: DataSet[string], transferSyntaxUID: string) {
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

/**
 * `count` instances of one kind, in series of 20 (one study each), with the same pixels and fresh
 * UIDs: every request of a run asks for an image neither server has rendered before.
 */
export async function renderedCorpus(kind: RenderedKind, count: number): Promise<Corpus> {
  const ct = kind === 'us' ? undefined : ctPixels();
  const j2k = kind === 'jpeg2000' ? await jpeg2000(ct!) : undefined;
  const us = kind === 'us' ? usFrames() : undefined;
  const files: Uint8Array[] = [];
  const instances: StoredInstance[] = [];
  let series = { studyInstanceUID: '', seriesInstanceUID: '' };
  for (let i = 0; i < count; i++) {
    if (i % 20 === 0) series = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
    const uids = { ...series, sopInstanceUID: newUid() };
    instances.push(uids);
    if (us) {
      const attributes = {
        SOPClassUID: SopClass.UltrasoundMultiFrameImageStorage,
        Modality: 'US',
        InstanceNumber: (i % 20) + 1,
        SamplesPerPixel: 3,
        PhotometricInterpretation: 'RGB',
        PlanarConfiguration: 0,
        NumberOfFrames: US.frames,
        Rows: US.rows,
        Columns: US.columns,
        BitsAllocated: 8,
        BitsStored: 8,
        HighBit: 7,
        PixelRepresentation: 0,
      };
      files.push(instance(uids, attributes, { vr: 'OB', Value: [us.buffer as ArrayBuffer] }, TransferSyntax.ExplicitVRLittleEndian));
      continue;
    }
    const attributes = {
      SOPClassUID: SopClass.CTImageStorage,
      Modality: 'CT',
      InstanceNumber: (i % 20) + 1,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: CT.rows,
      Columns: CT.columns,
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
    files.push(
      j2k
        ? instance(uids, attributes, { vr: 'OB', Value: [j2k.slice().buffer] }, TransferSyntax.JPEG2000Lossless)
        : instance(uids, attributes, { vr: 'OW', Value: [ct!.slice().buffer] }, TransferSyntax.ExplicitVRLittleEndian),
    );
  }
  return { files, instances, bytes: files.reduce((n, f) => n + f.byteLength, 0) };
}

/** The resource's path under a server's root (PS3.18 10.4.1.1.3-4). */
export function renderedPath(i: StoredInstance, kind: RenderedKind, resource: RenderedResource): string {
  const frame = RENDERED_IMAGES[kind].frame;
  const instancePath = `/studies/${i.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}`;
  return `${instancePath}${frame ? `/frames/${frame}` : ''}/${resource}`;
}

/**
 * Requests the resource of every instance once, `concurrency` at once, Accept image/jpeg; throws on
 * any other answer. Each body is then decoded: a rendered image must have the image's size and
 * samples, a thumbnail its aspect ratio and samples, at most its size.
 */
export async function renderedWorkload(
  url: string,
  instances: readonly StoredInstance[],
  kind: RenderedKind,
  resource: RenderedResource,
  concurrency: number,
): Promise<Measurement> {
  const bodies: Buffer[] = [];
  const m = await measure(instances, concurrency, async (i) => {
    const r = await fetch(`${url}${renderedPath(i, kind, resource)}`, { headers: { Accept: 'image/jpeg' } });
    const body = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200) throw new Error(`${resource} answered ${r.status}`);
    const type = r.headers.get('content-type') ?? '';
    if (!/^image\/jpeg\b/.test(type)) throw new Error(`${resource} answered ${type || 'no Content-Type'}, not image/jpeg`);
    bodies.push(body);
    return body.byteLength;
  });
  const image = RENDERED_IMAGES[kind];
  for (const body of bodies) {
    const { info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    const size = `${info.width}x${info.height}x${info.channels}`;
    // A grey image may come as a three-channel JPEG (R = G = B): the same image.
    const channels = image.channels === 1 && info.channels === 3 ? 1 : Math.min(info.channels, 3);
    const ok =
      resource === 'rendered'
        ? info.width === image.width && info.height === image.height && channels === image.channels
        : info.width <= image.width &&
          info.height <= image.height &&
          Math.abs(info.width / info.height - image.width / image.height) < 0.05 &&
          channels === image.channels;
    if (!ok) throw new Error(`${resource} of ${image.label}: a ${size} JPEG`);
  }
  return m;
}
