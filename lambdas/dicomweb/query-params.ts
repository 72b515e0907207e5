/**
 * Query parameters of the Search transaction (PS3.18 8.3.4, 10.6.1.2), parsed and validated once.
 * Pure, so SEND-RS (Sup 248) validates its search keys with the same rules.
 */
import { tagOf, vrOf } from '../dicom/dictionary';
import { isValidUid } from '../dicom/uid';
import type { Level } from '../storage/ports';
import { MATCHABLE_SEQUENCE_PATHS, matchableTags } from './attributes';
import { BadRequestError, type StatusReportDetail } from './errors';
import { isRangeVr, rangeOf, type MatchKey } from './matching';

export type { MatchKey } from './matching';

export interface SearchParameters {
  /** {attributeID}={value} keys, tags normalised to 'GGGGEEEE' (or 'GGGGEEEE.GGGGEEEE' in a sequence). */
  readonly matchKeys: readonly MatchKey[];
  /** includefield values as tags, or 'all' (PS3.18 8.3.4.3). */
  readonly includeFields: readonly string[] | 'all';
  readonly fuzzymatching: boolean;
  /** Absent when the request sets none (the service applies its default). */
  readonly limit?: number;
  readonly offset: number;
}

export interface ParseOptions {
  /** SEND-RS selects instances; includefield has no meaning there and is skipped. */
  readonly ignoreIncludefield?: boolean;
  /**
   * The keys a resource other than the Studies Service matches on (e.g. a Non-Patient Instance
   * category, PS3.18 12): tag paths 'GGGGEEEE' or 'GGGGEEEE.GGGGEEEE', and the resource's name for
   * messages. Defaults to the Studies keys of the level.
   */
  readonly matchable?: { readonly resource: string; readonly tagPaths: ReadonlySet<string> };
}

/** PS3.18 8.3.3: media type and charset query parameters, handled by content negotiation, not here. */
const NEGOTIATION_PARAMETERS = new Set(['accept', 'charset']);

const NON_NEGATIVE_INTEGER = /^\d+$/;
const INTEGER_VRS = new Set(['IS', 'US', 'SS', 'UL', 'SL', 'UV', 'SV']);
const DECIMAL_VRS = new Set(['DS', 'FL', 'FD']);

/**
 * Parses the query of a search resource at `level`. Every problem found is reported at once, as the
 * details of one BadRequestError (PS3.18 8.6.1.2: 400 with a Status Report).
 */
export function parseSearchParameters(
  query: ReadonlyMap<string, readonly string[]>,
  level: Level,
  opts: ParseOptions = {},
): SearchParameters {
  const problems: StatusReportDetail[] = [];
  const problem = (target: string, message: string) => problems.push({ target, message });
  const matchKeys: MatchKey[] = [];
  let includeFields: string[] | 'all' = [];
  let fuzzymatching = false;
  let limit: number | undefined;
  let offset = 0;

  const single = (name: string, values: readonly string[]): string | undefined => {
    if (values.length === 1) return values[0];
    problem(name, `${name} is given ${values.length} times; give it once (a UID list is comma-separated)`);
    return undefined;
  };

  for (const [name, values] of query) {
    if (NEGOTIATION_PARAMETERS.has(name)) continue;
    switch (name) {
      case 'includefield': {
        if (opts.ignoreIncludefield) break;
        const fields = values.flatMap((v) => v.split(',')).map((f) => f.trim());
        if (fields.includes('all')) {
          includeFields = 'all';
          break;
        }
        const tags = fields.map((f) => {
          const path = attributePath(f);
          if (!path) problem(name, `"${f}" is not a DICOM attribute keyword or tag`);
          return path?.[0];
        });
        includeFields = [...new Set(tags.filter((t): t is string => t !== undefined))];
        break;
      }
      case 'fuzzymatching': {
        const v = single(name, values);
        if (v === 'true' || v === 'false') fuzzymatching = v === 'true';
        else if (v !== undefined) problem(name, `fuzzymatching must be true or false, got "${v}"`);
        break;
      }
      case 'limit':
      case 'offset': {
        const v = single(name, values);
        if (v === undefined) break;
        if (!NON_NEGATIVE_INTEGER.test(v) || !Number.isSafeInteger(Number(v))) {
          problem(name, `${name} must be a non-negative integer, got "${v}"`);
        } else if (name === 'limit') limit = Number(v);
        else offset = Number(v);
        break;
      }
      default: {
        const path = attributePath(name);
        if (!path) {
          problem(name, `"${name}" is neither a search parameter nor a DICOM attribute keyword or tag`);
          break;
        }
        const tag = path.join('.');
        if (opts.matchable ? !opts.matchable.tagPaths.has(tag) : !isMatchable(path, level)) {
          problem(name, `${name} is not a supported matching key of a ${opts.matchable?.resource ?? level.toLowerCase()} search`);
          break;
        }
        const value = single(name, values);
        if (value === undefined) break;
        if (matchKeys.some((k) => k.tag === tag)) {
          problem(name, `${name} is given more than once (by keyword and by tag)`);
          break;
        }
        const error = valueProblem(vrOf(path[path.length - 1]!) ?? 'UN', value);
        if (error) problem(name, `${name}: ${error}`);
        else matchKeys.push({ tag, value });
      }
    }
  }

  if (problems.length > 0) throw new BadRequestError('invalid search query parameters', problems);
  return { matchKeys, includeFields, fuzzymatching, limit, offset };
}

/** 'PatientName', '00100010' or 'RequestAttributesSequence.ScheduledProcedureStepID' -> tags. */
function attributePath(attributeId: string): string[] | undefined {
  const tags = attributeId.split('.').map((part) => tagOf(part));
  return tags.every((t): t is string => t !== undefined) ? tags : undefined;
}

function isMatchable(path: readonly string[], level: Level): boolean {
  if (!matchableTags(level).has(path[0]!)) return false;
  return path.length === 1 || MATCHABLE_SEQUENCE_PATHS.has(path.join('.'));
}

/** Why a key value is malformed for the attribute's VR (PS3.4 C.2.2.2), or undefined when it is fine. */
function valueProblem(vr: string, value: string): string | undefined {
  if (value === '') return undefined; // universal matching
  if (vr === 'UI') {
    // PS3.4 C.2.2.2.2 UID list matching; PS3.18 8.3.4.1 comma-separated.
    const bad = value.split(/[,\\]/).filter((uid) => !isValidUid(uid));
    return bad.length ? `not a valid UID (list): ${bad.map((u) => `"${u}"`).join(', ')}` : undefined;
  }
  if (isRangeVr(vr)) {
    const range = rangeOf(vr, value);
    if (!range) return `"${value}" is not a ${vr} value or range (e.g. ${vr === 'TM' ? '0800-1730' : '20200101-20201231'})`;
    if (vr === 'DA' && ![range.from, range.to].every((d) => d === undefined || isCalendarDate(d))) {
      return `"${value}" is not a valid date`;
    }
    // A TM range may wrap past midnight when combined with a date range (PS3.4 C.2.2.2.5.1).
    if (vr === 'DA' && range.from !== undefined && range.to !== undefined && range.from > range.to) {
      return `"${value}" is an empty range (its start is after its end)`;
    }
    return undefined;
  }
  if (INTEGER_VRS.has(vr) && !/^[+-]?\d+$/.test(value)) return `"${value}" is not an integer`;
  if (DECIMAL_VRS.has(vr) && (value.trim() === '' || !Number.isFinite(Number(value)))) return `"${value}" is not a number`;
  if (vr === 'SQ') return 'a sequence matches through its items (e.g. Sequence.Attribute=value)';
  return undefined;
}

function isCalendarDate(yyyymmdd: string): boolean {
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}
