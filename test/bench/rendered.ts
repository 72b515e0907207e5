/**
 * The rendered and thumbnail workloads of `npm run bench` (PS3.18 10.4.1.1.3-4), sent by the same
 * client to every server compared: a 512x512 16-bit CT instance, the same pixels in JPEG 2000
 * (reversible, the OpenJPEG encoder of @cornerstonejs/codec-openjpeg) and a frame of an RGB ultrasound
 * multi-frame instance. Every answer must be 200 image/jpeg, and after the run every body is decoded
 * (sharp) and checked against the image's size and samples, so a figure is never the speed of an error
 * or of something that is not the image.
 */
import sharp from 'sharp';
import { newUid } from '../../lambdas/dicom/uid';
import { ctInstance, ctPixels, jpeg2000Lossless, usFrames, usInstance } from '../support/rendered-instances';
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

/**
 * `count` instances of one kind, in series of 20 (one study each), with the same pixels and fresh
 * UIDs: every request of a run asks for an image neither server has rendered before.
 */
export async function renderedCorpus(kind: RenderedKind, count: number): Promise<Corpus> {
  const ct = kind === 'us' ? undefined : ctPixels();
  const codestream = kind === 'jpeg2000' ? await jpeg2000Lossless(ct!) : undefined;
  const us = kind === 'us' ? usFrames() : undefined;
  const files: Uint8Array[] = [];
  const instances: StoredInstance[] = [];
  let series = { studyInstanceUID: '', seriesInstanceUID: '' };
  for (let i = 0; i < count; i++) {
    if (i % 20 === 0) series = { studyInstanceUID: newUid(), seriesInstanceUID: newUid() };
    const uids = { ...series, sopInstanceUID: newUid() };
    instances.push(uids);
    files.push(us ? usInstance(uids, us, (i % 20) + 1) : ctInstance(uids, ct!, codestream, (i % 20) + 1));
  }
  return { files, instances, bytes: files.reduce((n, f) => n + f.byteLength, 0) };
}

/** The side of the square a thumbnail fits in: the archive's default (lambdas/dicomweb/rendered.ts). */
export const THUMBNAIL_SIDE = 128;

/**
 * The resource's path under a server's root (PS3.18 10.4.1.1.3-4). `thumbnailAsViewport`: a server
 * without the thumbnail resource is asked for the same image as rendered into a viewport of the
 * thumbnail's size (PS3.18 8.3.5.1.3), what a client of it does.
 */
export function renderedPath(i: StoredInstance, kind: RenderedKind, resource: RenderedResource, thumbnailAsViewport = false): string {
  const frame = RENDERED_IMAGES[kind].frame;
  const target = `/studies/${i.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}${frame ? `/frames/${frame}` : ''}`;
  if (resource === 'thumbnail' && thumbnailAsViewport) return `${target}/rendered?viewport=${THUMBNAIL_SIDE},${THUMBNAIL_SIDE}`;
  return `${target}/${resource}`;
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
  thumbnailAsViewport = false,
): Promise<Measurement> {
  const bodies: Buffer[] = [];
  const m = await measure(instances, concurrency, async (i) => {
    const r = await fetch(`${url}${renderedPath(i, kind, resource, thumbnailAsViewport)}`, { headers: { Accept: 'image/jpeg' } });
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
        : thumbnailAsViewport
          ? // A viewport may be filled whole (Orthanc pads a 640 x 480 frame to 128 x 128).
            info.width <= THUMBNAIL_SIDE && info.height <= THUMBNAIL_SIDE && channels === image.channels
          : info.width <= image.width &&
            info.height <= image.height &&
            Math.abs(info.width / info.height - image.width / image.height) < 0.05 &&
            channels === image.channels;
    if (!ok) throw new Error(`${resource} of ${image.label}: a ${size} JPEG`);
  }
  return m;
}
