/**
 * The request of the rendered and thumbnail resources (PS3.18 10.4.1.1.3-4): the query parameters of
 * PS3.18 8.3.5 (Table 8.3.5-1) parsed and checked, every malformed value a 400 naming it; and the
 * rendered media type negotiated from the Accept list (PS3.18 8.7.4), 406 when none can be produced.
 */
import { mediaRangeMatches, parseAccept, type AcceptRequest } from './accept';
import { BadRequestError, NotAcceptableError } from './errors';
import { MediaType } from './messages';

/** The rendered media types the archive produces (PS3.18 Table 8.7.4-1), the default first. */
export const RENDERED_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif'] as const;
export type RenderedMediaType = (typeof RENDERED_MEDIA_TYPES)[number];

/** VOI LUT Function of the window parameter (PS3.18 8.3.5.1.4, PS3.3 C.11.2.1.3). */
export type WindowFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface WindowParameter {
  readonly center: number;
  readonly width: number;
  readonly function: WindowFunction;
}

/** Source region of the viewport (PS3.18 8.3.5.1.3); a negative width or height flips the image. */
export interface ViewportRegion {
  readonly sx: number;
  readonly sy: number;
  readonly sw?: number;
  readonly sh?: number;
}

export interface Viewport {
  readonly vw: number;
  readonly vh: number;
  readonly region?: ViewportRegion;
}

export type Annotation = 'patient' | 'technique';
/** iccprofile values this archive produces: none, or the image's colours tagged as sRGB. */
export type IccProfile = 'no' | 'srgb';

export interface RenderedParameters {
  readonly window?: WindowParameter;
  readonly viewport?: Viewport;
  /** JPEG quality, 1-100. */
  readonly quality?: number;
  /** Accepted and checked, not burned in (docs/conformance-statement.md, rendered resources). */
  readonly annotation: readonly Annotation[];
  readonly iccProfile: IccProfile;
}

/** Which resource the parameters are for: thumbnails take only viewport (PS3.18 10.4.1.1.4). */
export type RenderedResource = 'rendered' | 'thumbnail';

const WINDOW_FUNCTIONS: Readonly<Record<string, WindowFunction>> = {
  linear: 'LINEAR',
  'linear-exact': 'LINEAR_EXACT',
  sigmoid: 'SIGMOID',
};

/** Largest viewport side: a rendered answer stays far below the response limit. */
export const MAX_VIEWPORT_SIDE = 8192;

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d{1,9}$/;

function malformed(parameter: string, expected: string): BadRequestError {
  return new BadRequestError(`malformed ${parameter} query parameter`, [{ target: parameter, message: expected }]);
}

/** The single value of a parameter; 400 when it is repeated. */
function single(query: ReadonlyMap<string, readonly string[]>, name: string): string | undefined {
  const values = query.get(name);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw malformed(name, 'given once');
  return values[0]!;
}

/** window=center,width,function (PS3.18 8.3.5.1.4): width above 0 (at least 1 for linear). */
export function parseWindow(value: string): WindowParameter {
  const expected = 'center,width,function: two decimal numbers, width above 0, and linear, linear-exact or sigmoid';
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length !== 3 || !DECIMAL.test(parts[0]!) || !DECIMAL.test(parts[1]!)) throw malformed('window', expected);
  const fn = WINDOW_FUNCTIONS[parts[2]!.toLowerCase()];
  const center = Number(parts[0]);
  const width = Number(parts[1]);
  if (!fn || !Number.isFinite(center) || !Number.isFinite(width) || width <= 0) throw malformed('window', expected);
  // PS3.3 C.11.2.1.2.1: the linear function needs a width of at least 1.
  if (fn === 'LINEAR' && width < 1) throw malformed('window', 'a linear window has a width of at least 1');
  return { center, width, function: fn };
}

/** viewport=vw,vh[,sx,sy[,sw,sh]] (PS3.18 8.3.5.1.3). */
export function parseViewport(value: string): Viewport {
  const expected = `vw,vh[,sx,sy,sw,sh]: vw and vh integers from 1 to ${MAX_VIEWPORT_SIDE}, sx and sy from 0, sw and sh non-zero`;
  const parts = value.split(',').map((s) => s.trim());
  if (![2, 4, 6].includes(parts.length)) throw malformed('viewport', expected);
  // Empty sx..sh take their defaults (the whole image); vw and vh are required.
  if (parts.slice(0, 2).some((p) => p === '') || parts.some((p) => p !== '' && !INTEGER.test(p))) throw malformed('viewport', expected);
  const [vw, vh, sx, sy, sw, sh] = parts.map((p) => (p === '' ? undefined : Number(p)));
  if (vw! < 1 || vh! < 1 || vw! > MAX_VIEWPORT_SIDE || vh! > MAX_VIEWPORT_SIDE) throw malformed('viewport', expected);
  if ((sx ?? 0) < 0 || (sy ?? 0) < 0 || sw === 0 || sh === 0) throw malformed('viewport', expected);
  if (parts.length === 2) return { vw: vw!, vh: vh! };
  return {
    vw: vw!,
    vh: vh!,
    region: { sx: sx ?? 0, sy: sy ?? 0, ...(sw !== undefined && { sw }), ...(sh !== undefined && { sh }) },
  };
}

function parseQuality(value: string): number {
  if (!/^\d{1,3}$/.test(value.trim()) || Number(value) < 1 || Number(value) > 100) {
    throw malformed('quality', 'an integer from 1 to 100');
  }
  return Number(value);
}

function parseAnnotation(value: string): Annotation[] {
  const items = value.split(',').map((s) => s.trim().toLowerCase());
  if (items.some((i) => i !== 'patient' && i !== 'technique')) throw malformed('annotation', 'patient, technique, or both');
  return [...new Set(items as Annotation[])];
}

/**
 * iccprofile (PS3.18 8.3.5.1.5): no, yes or srgb; the pipeline yields values meant for an sRGB
 * display, so yes and srgb embed the sRGB profile. adobergb and rommrgb would need a colour transform
 * this archive does not make: 400 naming what it does.
 */
function parseIccProfile(value: string): IccProfile {
  const v = value.trim().toLowerCase();
  if (v === 'no') return 'no';
  if (v === 'yes' || v === 'srgb') return 'srgb';
  if (v === 'adobergb' || v === 'rommrgb') {
    throw new BadRequestError(`iccprofile=${v} is not supported`, [{ target: 'iccprofile', message: 'no, yes or srgb' }]);
  }
  throw malformed('iccprofile', 'no, yes, srgb, adobergb or rommrgb');
}

/** charset (PS3.18 8.3.3.2): a token; it would only name the character set of annotation text. */
function checkCharset(value: string): void {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+(;\s*q=[0-9.]+)?)*$/.test(value.trim())) {
    throw malformed('charset', 'a character set name, e.g. utf-8');
  }
}

/**
 * The rendering parameters of a request. A thumbnail takes viewport only (PS3.18 10.4.1.1.4, Table
 * 8.3.5-1): its other rendering parameters are ignored, as the standard lets an origin server ignore
 * parameters a resource does not support.
 */
export function parseRenderedParameters(query: ReadonlyMap<string, readonly string[]>, resource: RenderedResource): RenderedParameters {
  const viewport = single(query, 'viewport');
  const charset = single(query, 'charset');
  if (charset !== undefined) checkCharset(charset);
  if (resource === 'thumbnail') {
    return { ...(viewport !== undefined && { viewport: parseViewport(viewport) }), annotation: [], iccProfile: 'no' };
  }
  const window = single(query, 'window');
  const quality = single(query, 'quality');
  const annotation = single(query, 'annotation');
  const iccProfile = single(query, 'iccprofile');
  return {
    ...(window !== undefined && { window: parseWindow(window) }),
    ...(viewport !== undefined && { viewport: parseViewport(viewport) }),
    ...(quality !== undefined && { quality: parseQuality(quality) }),
    annotation: annotation === undefined ? [] : parseAnnotation(annotation),
    iccProfile: iccProfile === undefined ? 'no' : parseIccProfile(iccProfile),
  };
}

/**
 * The parameters as one canonical string, for the ETag and the cache key: the same rendering asked
 * in different spellings (`linear` / `LINEAR`, `+1` / `1`) has the same name.
 */
export function normalisedParameters(p: RenderedParameters, mediaType: RenderedMediaType): string {
  const out = [`type=${mediaType}`];
  if (p.window) out.push(`window=${p.window.center},${p.window.width},${p.window.function}`);
  if (p.viewport) {
    const r = p.viewport.region;
    out.push(`viewport=${p.viewport.vw},${p.viewport.vh}` + (r ? `,${r.sx},${r.sy},${r.sw ?? ''},${r.sh ?? ''}` : ''));
  }
  if (p.quality !== undefined) out.push(`quality=${p.quality}`);
  if (p.annotation.length) out.push(`annotation=${[...p.annotation].sort().join(',')}`);
  if (p.iccProfile !== 'no') out.push(`iccprofile=${p.iccProfile}`);
  return out.join('&');
}

const PRODUCED = `${RENDERED_MEDIA_TYPES.join(', ')} (multipart/related of these for a study, a series or several frames)`;

/**
 * The acceptable rendered media types, most preferred first (PS3.18 8.7.4): an image range (`image/*`,
 * `*\/*` too) or multipart/related with a `type` of one (or none). With no Accept the default,
 * image/jpeg, comes first. 406 when none of the archive's is acceptable.
 */
export function negotiateRendered(req: AcceptRequest): RenderedMediaType[] {
  const out: RenderedMediaType[] = [];
  for (const range of parseAccept(req)) {
    const partRange =
      mediaRangeMatches(range.mediaType, MediaType.MultipartRelated) && range.mediaType !== '*/*' ? range.type : range.mediaType;
    for (const type of RENDERED_MEDIA_TYPES) {
      if ((partRange === undefined || mediaRangeMatches(partRange, type)) && !out.includes(type)) out.push(type);
    }
  }
  if (out.length === 0) {
    throw new NotAcceptableError('none of the acceptable media types is a rendered media type this archive produces', [
      { target: 'Accept', message: `rendered resources are returned as ${PRODUCED}` },
    ]);
  }
  return out;
}
