/**
 * Rendered and thumbnail resources of the Retrieve Transaction (WADO-RS), PS3.18 10.4.1.1.3-4:
 * stored instances decoded through the PS3.3 C.11 pixel pipeline (lambdas/dicom/render) and encoded in
 * a rendered media type (./image-encoder.ts), with the query parameters of PS3.18 8.3.5.
 *
 * - Study and series: multipart/related of their rendered image instances, one part each.
 * - Instance: its single frame; of a multi-frame instance an animated image/gif when image/gif is the
 *   preferred acceptable type, else its first frame in the preferred single-frame type.
 * - Frames: one image for one frame, multipart/related of the frames for several.
 * - Thumbnails: one small image; a study's and series' from a representative instance
 *   (./representative-instance.ts), an instance's from its first frame, frames' from the first listed.
 *
 * Every check (400, 404/410, 406) runs before the answer; each answer carries a strong ETag and
 * Cache-Control (stored instances never change), and If-None-Match answers 304 before rendering.
 */
import type { DicomJson } from '../dicom/json';
import { Tag } from '../dicom/tags';
import type { BlobStore, IndexEntry, InstanceObject, MetadataIndex } from '../storage/ports';
import { thumbnailKey } from './derived-images';
import { BadRequestError, NotAcceptableError, NotFoundError, PayloadTooLargeError } from './errors';
import { frameImages, type FrameImager } from './frame-images';
import type { EncodeOptions } from './image-encoder';
import type { DicomwebResponse } from './messages';
import { entityTag, imageResponse, matches, notModified, withCaching } from './rendered-caching';
import { warningHeader } from './messages';
import { negotiateRendered, parseRenderedParameters, type RenderedMediaType, type RenderedParameters } from './rendered-params';
import { isImage, representativeOfSeries, representativeOfStudy } from './representative-instance';
import { multipartResponse } from './representation';
import { absentResourceError, assertNotBeingDeleted, assertValidUids, instancesOf, levelOf, type ResourceUids } from './resources';
import { parseFrameList } from './retrieve';
import { mapOrdered, readObject } from './stored-objects';
import { absolute, instancePath } from './uris';

export interface RenderRequest extends ResourceUids {
  /** Frame list of the frames resources, e.g. '1,3,5'. */
  readonly frames?: string;
  readonly query: ReadonlyMap<string, readonly string[]>;
  readonly accept: string | undefined;
  /** `accept` query parameter (PS3.18 8.3.3.1); replaces the header when present. */
  readonly acceptQuery?: string;
  /** If-None-Match header field (RFC 9110 13.1.2). */
  readonly ifNoneMatch?: string;
  readonly baseUrl: string;
}

export interface RenderOptions {
  /** Largest response, in bytes (the Lambda response streaming limit). */
  readonly maxResponseBytes: number;
  /** Side of the square a thumbnail fits in without a viewport, in pixels (default 128). */
  readonly thumbnailSize?: number;
  /** Where images are made: this thread by default; the embedded runtime's worker threads (lib/local/render-workers.ts). */
  readonly imager?: FrameImager;
}

export const DEFAULT_THUMBNAIL_SIZE = 128;
/** Instances rendered at once for a study or series. */
const RENDER_AHEAD = 2;

type Kind = 'rendered' | 'thumbnail';

export class RenderService {
  private readonly thumbnailSize: number;
  private readonly imager: FrameImager;
  constructor(
    private readonly index: MetadataIndex,
    private readonly blobs: BlobStore,
    private readonly options: RenderOptions,
  ) {
    this.thumbnailSize = options.thumbnailSize ?? DEFAULT_THUMBNAIL_SIZE;
    this.imager = options.imager ?? frameImages;
  }

  /** Retrieve Rendered Study, PS3.18 10.4.1.1.3. */
  retrieveRenderedStudy(req: RenderRequest): Promise<DicomwebResponse> {
    return this.renderedInstances({ studyInstanceUID: req.studyInstanceUID }, req);
  }
  /** Retrieve Rendered Series, PS3.18 10.4.1.1.3. */
  retrieveRenderedSeries(req: RenderRequest): Promise<DicomwebResponse> {
    return this.renderedInstances({ studyInstanceUID: req.studyInstanceUID, seriesInstanceUID: req.seriesInstanceUID }, req);
  }

  /** Retrieve Rendered Instance, PS3.18 10.4.1.1.3. */
  async retrieveRenderedInstance(req: RenderRequest): Promise<DicomwebResponse> {
    const { params, types, entries } = await this.prepare(instanceUids(req), req, 'rendered');
    const object = imageObject(entries[0]!);
    const type = types[0]!;
    const animated = type === 'image/gif' && object.numberOfFrames > 1;
    const etag = entityTag([object.objectKey], `rendered${animated ? '-animated' : ''}`, params, type);
    if (matches(req.ifNoneMatch, etag)) return notModified(etag);
    const frames = animated ? range(object.numberOfFrames) : [1];
    return imageResponse(await this.render(object, frames, params, this.encodeOptions(params, type, 'rendered')), type, etag);
  }

  /** Retrieve Rendered Frames, PS3.18 10.4.1.1.3. */
  async retrieveRenderedFrames(req: RenderRequest): Promise<DicomwebResponse> {
    const frameNumbers = parseFrameList(req.frames);
    const { params, types, entries } = await this.prepare(instanceUids(req), req, 'rendered');
    const object = imageObject(entries[0]!);
    assertFramesExist(frameNumbers, object.numberOfFrames);
    const type = types[0]!;
    const etag = entityTag([object.objectKey], `frames=${frameNumbers.join(',')}`, params, type);
    if (matches(req.ifNoneMatch, etag)) return notModified(etag);
    const options = this.encodeOptions(params, type, 'rendered');
    if (frameNumbers.length === 1) return imageResponse(await this.render(object, frameNumbers, params, options), type, etag);
    const bytes = await this.images(object, frameNumbers, params, options);
    const path = instancePath(req.studyInstanceUID, req.seriesInstanceUID!, req.sopInstanceUID!);
    const parts = bytes.map((body, i) => ({
      contentType: type,
      headers: { 'Content-Location': absolute(req.baseUrl, `${path}/frames/${frameNumbers[i]}/rendered`) },
      body,
    }));
    return withCaching(multipartResponse(type, parts), etag);
  }

  /** Retrieve Study Thumbnail, PS3.18 10.4.1.1.4. */
  retrieveStudyThumbnail(req: RenderRequest): Promise<DicomwebResponse> {
    return this.thumbnail({ studyInstanceUID: req.studyInstanceUID }, req, representativeOfStudy);
  }
  /** Retrieve Series Thumbnail, PS3.18 10.4.1.1.4. */
  retrieveSeriesThumbnail(req: RenderRequest): Promise<DicomwebResponse> {
    return this.thumbnail(
      { studyInstanceUID: req.studyInstanceUID, seriesInstanceUID: req.seriesInstanceUID },
      req,
      representativeOfSeries,
    );
  }
  /** Retrieve Instance Thumbnail, PS3.18 10.4.1.1.4: of its first frame. */
  retrieveInstanceThumbnail(req: RenderRequest): Promise<DicomwebResponse> {
    return this.thumbnail(instanceUids(req), req, (entries) => entries.find(isImage));
  }
  /** Retrieve Frames Thumbnail, PS3.18 10.4.1.1.4: of the first frame listed. */
  async retrieveFramesThumbnail(req: RenderRequest): Promise<DicomwebResponse> {
    const frameNumbers = parseFrameList(req.frames);
    return this.thumbnail(instanceUids(req), req, (entries) => entries.find(isImage), frameNumbers);
  }

  /**
   * The checks every resource makes, in the order of PS3.18 8.6: the request's form (400: UIDs,
   * parameters, Accept), then the resource (404, 410), then whether it can be rendered (406).
   */
  private async prepare(uids: ResourceUids, req: RenderRequest, kind: Kind) {
    assertValidUids(uids);
    const params = parseRenderedParameters(req.query, kind);
    const types = negotiateRendered(req);
    const live = assertNotBeingDeleted(this.index, uids);
    const entries = await instancesOf(this.index, uids);
    await live;
    if (entries.length === 0) throw await absentResourceError(this.index, uids);
    return { params, types, entries };
  }

  private async renderedInstances(uids: ResourceUids, req: RenderRequest): Promise<DicomwebResponse> {
    const { params, types, entries } = await this.prepare(uids, req, 'rendered');
    const images = entries.filter(isImage);
    if (images.length === 0) throw notAnImage(levelOf(uids));
    const type = types[0]!;
    // Of every instance, images or not: the Warning counts them all.
    const etag = entityTag(
      entries.map((e) => e.instance!.objectKey),
      'rendered',
      params,
      type,
    );
    if (matches(req.ifNoneMatch, etag)) return notModified(etag);
    const options = this.encodeOptions(params, type, 'rendered');
    // Rendered before answering, so what cannot be rendered is left out with a Warning (206) rather
    // than cutting a streamed answer short.
    const rendered: { entry: IndexEntry; body: Uint8Array }[] = [];
    let total = 0;
    const results = mapOrdered(images, RENDER_AHEAD, async (entry) => {
      const object = entry.instance!;
      const animated = type === 'image/gif' && object.numberOfFrames > 1;
      try {
        return { entry, body: await this.render(object, animated ? range(object.numberOfFrames) : [1], params, options) };
      } catch (error) {
        if (error instanceof NotAcceptableError) return undefined;
        throw error;
      }
    });
    for await (const result of results) {
      if (!result) continue;
      total += result.body.byteLength;
      this.assertWithinLimit(total);
      rendered.push(result);
    }
    if (rendered.length === 0) throw notAnImage(levelOf(uids), 'none of its instances can be rendered');
    const parts = rendered.map(({ entry, body }) => ({
      contentType: type,
      headers: {
        'Content-Location': absolute(
          req.baseUrl,
          `${instancePath(entry.studyInstanceUID, entry.seriesInstanceUID!, entry.sopInstanceUID!)}/rendered`,
        ),
      },
      body,
    }));
    const notRendered = entries.length - rendered.length;
    const warning =
      notRendered > 0
        ? warningHeader(req.baseUrl, `${notRendered} of ${entries.length} instance(s) have no image that can be rendered`)
        : undefined;
    return withCaching(multipartResponse(type, parts, warning), etag);
  }

  /** A thumbnail of `pick`'s instance; the default one (no viewport) cached beside the instance. */
  private async thumbnail(
    uids: ResourceUids,
    req: RenderRequest,
    pick: (entries: readonly IndexEntry[]) => IndexEntry | undefined,
    frameNumbers: readonly number[] = [1],
  ): Promise<DicomwebResponse> {
    const { params, types, entries } = await this.prepare(uids, req, 'thumbnail');
    const entry = pick(entries);
    if (!entry) throw notAnImage(levelOf(uids));
    const object = entry.instance!;
    const frame = frameNumbers[0]!;
    assertFramesExist(frameNumbers, object.numberOfFrames);
    const type = types[0]!;
    const etag = entityTag([object.objectKey], `thumbnail;frame=${frame}`, params, type);
    if (matches(req.ifNoneMatch, etag)) return notModified(etag);
    const cacheKey = frame === 1 && !params.viewport ? thumbnailKey(object, type) : undefined;
    const cached = cacheKey && (await this.blobs.get(cacheKey));
    if (cached) return imageResponse(cached, type, etag);
    const body = await this.render(object, [frame], params, this.encodeOptions(params, type, 'thumbnail'));
    if (cacheKey) await this.keep(entry, cacheKey, body, type);
    return imageResponse(body, type, etag);
  }

  /**
   * Stores a derived image beside its instance. A Delete of the instance that ran meanwhile could not
   * see it, so the instance is looked up again after the write and the image removed if it has gone.
   * A failed write costs the next request a rendering, never this answer.
   */
  private async keep(entry: IndexEntry, key: string, body: Uint8Array, type: RenderedMediaType): Promise<void> {
    try {
      await this.blobs.put(key, body, type, { reproducible: true });
      const still = await this.index.getInstance(entry.studyInstanceUID, entry.seriesInstanceUID!, entry.sopInstanceUID!);
      if (still?.instance?.objectKey !== entry.instance!.objectKey) await this.blobs.delete([key]);
    } catch (error) {
      // No key or UID in the log: they may identify a patient.
      console.error(
        JSON.stringify({ level: 'warn', message: 'derived image not cached', error: error instanceof Error ? error.name : String(error) }),
      );
    }
  }

  private encodeOptions(params: RenderedParameters, mediaType: RenderedMediaType, kind: Kind): EncodeOptions {
    return {
      mediaType,
      ...(params.viewport && { viewport: params.viewport }),
      ...(kind === 'thumbnail' && { fitInside: this.thumbnailSize }),
      ...(params.quality !== undefined && { quality: params.quality }),
      iccProfile: params.iccProfile,
    };
  }

  /** Frames of one instance as one image: a single frame, or an animated GIF of several at the instance's pace. */
  private async render(
    object: InstanceObject,
    frames: readonly number[],
    params: RenderedParameters,
    options: EncodeOptions,
  ): Promise<Uint8Array> {
    const animated = frames.length > 1 ? { delayMs: await this.frameDelay(object) } : undefined;
    return (await this.images(object, frames, params, options, animated))[0]!;
  }

  /**
   * The time between frames, in ms, from the stored metadata: Frame Time (PS3.3 C.7.6.5, Cine Module),
   * else Recommended Display Frame Rate; undefined without either (the encoder's default).
   */
  private async frameDelay(object: InstanceObject): Promise<number | undefined> {
    const metadata = JSON.parse(new TextDecoder().decode(await readObject(this.blobs, object, 'metadataKey'))) as DicomJson;
    const frameTime = Number(metadata[Tag.FrameTime]?.Value?.[0]);
    if (frameTime > 0) return frameTime;
    const rate = Number(metadata[Tag.RecommendedDisplayFrameRate]?.Value?.[0]);
    return rate > 0 ? 1000 / rate : undefined;
  }

  /**
   * Frames of one instance through the pixel pipeline and the encoder (./frame-images.ts): an image
   * each, or one animated GIF; its failures as the status PS3.18 gives.
   */
  private async images(
    object: InstanceObject,
    frames: readonly number[],
    params: RenderedParameters,
    encode: EncodeOptions,
    animated?: { delayMs?: number },
  ): Promise<Uint8Array[]> {
    // The object is read into the store's pooled memory (BlobStore ReadLease), given back once the
    // images are made: they are encoded into memory of their own.
    const lease = this.blobs.readLease?.();
    let made;
    try {
      const part10 = await readObject(this.blobs, object, 'objectKey', lease);
      made = await this.imager({
        part10,
        frames,
        encode,
        transferSyntaxUID: object.transferSyntaxUID,
        ...(params.window && { window: params.window }),
        ...(animated && { animated }),
      });
    } finally {
      lease?.release();
    }
    if ('renderError' in made) throw renderErrorToDicomweb(made.renderError, object);
    if ('badRequest' in made) throw new BadRequestError(made.badRequest.message, made.badRequest.details);
    return made.images;
  }

  private assertWithinLimit(bytes: number): void {
    if (bytes > this.options.maxResponseBytes) {
      throw new PayloadTooLargeError('the rendered images exceed the response size limit', [
        { message: 'ask for the series, instances or a smaller viewport instead' },
      ]);
    }
  }
}

/** What the codec's RenderError reasons answer (never a 5xx: the stored object, not the server, is at fault). */
export function renderErrorToDicomweb(reason: string, object: Pick<InstanceObject, 'transferSyntaxUID'>) {
  switch (reason) {
    case 'unsupported-transfer-syntax':
      return new NotAcceptableError(`the instance's transfer syntax ${object.transferSyntaxUID} cannot be decoded for rendering`, [
        { target: 'transfer-syntax', message: object.transferSyntaxUID },
      ]);
    case 'frame-out-of-range':
      return new NotFoundError('the frame does not exist in this instance');
    case 'not-an-image':
      return notAnImage('INSTANCE');
    default:
      return new NotAcceptableError('the instance cannot be rendered: its pixel data cannot be decoded', [
        { message: 'retrieve the instance as stored (transfer-syntax=*) instead' },
      ]);
  }
}

/**
 * A resource without an image: 406, no rendered media type can represent it (PS3.18 8.7.4: other
 * rendered types, e.g. of reports, are not produced here).
 */
function notAnImage(level: string, detail = 'it holds no Pixel Data'): NotAcceptableError {
  return new NotAcceptableError(`the ${level.toLowerCase()} cannot be rendered: ${detail}`, [
    { message: 'rendered media types are produced for images only; retrieve the instances or their metadata instead' },
  ]);
}

function imageObject(entry: IndexEntry): InstanceObject {
  if (!isImage(entry)) throw notAnImage('INSTANCE');
  return entry.instance!;
}

function instanceUids(req: RenderRequest): ResourceUids {
  if (req.seriesInstanceUID === undefined || req.sopInstanceUID === undefined) {
    throw new BadRequestError('an instance is addressed by its Series and SOP Instance UIDs');
  }
  return { studyInstanceUID: req.studyInstanceUID, seriesInstanceUID: req.seriesInstanceUID, sopInstanceUID: req.sopInstanceUID };
}

/** 404 naming the frames beyond NumberOfFrames (PS3.18 10.4.1.1.3). */
function assertFramesExist(frameNumbers: readonly number[], frameCount: number): void {
  const missing = frameNumbers.filter((n) => n > frameCount);
  if (missing.length > 0) {
    throw new NotFoundError(`frame(s) ${missing.join(',')} do not exist in this instance`, [
      { target: 'frames', message: `the instance has ${frameCount} frame(s)` },
    ]);
  }
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
