/**
 * QIDO-RS Search transaction (PS3.18 10.6): picks an index access path, matches the candidates
 * (matching.ts), orders and pages them, and shapes each result with the level's return attributes.
 */
import { vrOf } from '../dicom/dictionary';
import { Tag } from '../dicom/tags';
import type { EntryKeys, IndexEntry, IndexQuery, Level, MetadataIndex } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { DEFAULT_RETURN_ATTRIBUTES, INSTANCE_AVAILABILITY, UID_TAG_OF_LEVEL } from './attributes';
import { PayloadTooLargeError } from './errors';
import { dateRangeOf, matchesAll, personNameIndexPrefix, type MatchKey } from './matching';
import type { SearchParameters } from './query-params';
import { assertValidUids } from './resources';
import { absolute, instancePath, seriesPath, studyPath } from './uris';

export interface SearchLimits {
  /** Most index entries one search may read; beyond it the search answers 413. */
  readonly maxCandidates: number;
  /** Results returned when the request sets no limit. */
  readonly defaultLimit: number;
  /** Largest limit honoured (PS3.18 8.3.4.4: the origin server may return fewer). */
  readonly maxLimit: number;
}

export interface SearchRequest {
  readonly level: Level;
  /** Study (and series) of a relational resource, e.g. /studies/{study}/series. */
  readonly studyInstanceUID?: string;
  readonly seriesInstanceUID?: string;
  readonly parameters: SearchParameters;
  /** Base URL of the service root, for RetrieveURL. */
  readonly baseUrl: string;
  /** Most bytes the results may take in the response; unbounded when absent. */
  readonly budget?: ResultBudget;
}

/**
 * A response's byte budget. PS3.18 8.3.4.4.1 lets the origin server return fewer results than `limit`
 * (its maxResults), with a Warning giving the number remaining, which the client pages through with
 * `offset`; a buffered response (Lambda's 6 MB payload) ends its page where the budget ends.
 */
export interface ResultBudget {
  readonly maxBytes: number;
  /** Bytes one result adds to the response, with its separator. */
  readonly sizeOf: (result: DicomJson) => number;
}

export interface SearchResult {
  /** DICOM JSON of each match; [] when nothing matches (the handler answers 204). */
  readonly results: DicomJson[];
  /** More matches exist than returned (PS3.18 8.3.4.4: the response carries a Warning). */
  readonly truncated: boolean;
  /** How many more matches there are, when truncated and the search has read them all. */
  readonly remaining?: number;
}

export class SearchService {
  constructor(
    private readonly index: MetadataIndex,
    private readonly limits: SearchLimits,
  ) {}

  /** PS3.18 10.6: SearchForStudies, SearchForSeries, SearchForInstances. */
  async search(req: SearchRequest): Promise<SearchResult> {
    const { offset } = req.parameters;
    const limit = Math.min(req.parameters.limit ?? this.limits.defaultLimit, this.limits.maxLimit);
    // One match beyond the page tells whether the results are truncated.
    const wanted = offset + limit + 1;
    const { matches, complete } = await this.matches(req, wanted);
    const results = withinBudget(await this.shape(matches.slice(offset, offset + limit), req), req.budget);
    const truncated = matches.length > offset + results.length;
    if (!truncated) return { results, truncated };
    return { results, truncated, ...(complete ? { remaining: matches.length - offset - results.length } : {}) };
  }

  /**
   * Every entry the search matches, in result order, without paging: what a Send transaction
   * (Supplement 248 10.X.2: "perform a search according to Section 8.3.4") sends. limit and offset,
   * when given, still select the matches.
   */
  async matchingEntries(req: SearchRequest): Promise<IndexEntry[]> {
    const { offset, limit } = req.parameters;
    const { matches } = await this.matches(req, limit === undefined ? undefined : offset + limit);
    return matches.slice(offset, limit === undefined ? undefined : offset + limit).map((m) => m.entry);
  }

  /**
   * Reads the candidates of the access path (at most maxCandidates) and keeps the matches, in result
   * order: the first `wanted` of them when given, which an access path that yields in result order
   * (IndexQuery) finds without reading further. `complete`: every match was read.
   */
  private async matches(
    req: SearchRequest,
    wanted?: number,
  ): Promise<{ matches: { entry: IndexEntry; view: DicomJson }[]; complete: boolean }> {
    // A relational resource's path UIDs are checked as retrieve and delete check them: 400, not 204.
    if (req.studyInstanceUID !== undefined) {
      assertValidUids({ studyInstanceUID: req.studyInstanceUID, seriesInstanceUID: req.seriesInstanceUID });
    }
    const { matchKeys, fuzzymatching } = req.parameters;
    const matches: { entry: IndexEntry; view: DicomJson }[] = [];
    const query = chooseIndexQuery(req, wanted);
    const inOrder = query.by === 'patient' || query.by === 'name' || query.by === 'level';
    let read = 0;
    for await (const entry of this.index.query(query)) {
      if (++read > this.limits.maxCandidates) {
        throw new PayloadTooLargeError(
          `the query matches too many entries (more than ${this.limits.maxCandidates} to examine); add a more ` +
            'selective key such as PatientID, a StudyDate range, a UID or a PatientName with more leading characters, ' +
            'or narrow the StudyDate range',
        );
      }
      const view = viewOf(entry, req.baseUrl);
      if (matchesAll(view, matchKeys, { fuzzymatching })) matches.push({ entry, view });
      if (inOrder && matches.length === wanted) return { matches, complete: false };
    }
    return { matches: inOrder ? matches : matches.sort((a, b) => inResultOrder(a.entry, b.entry)), complete: true };
  }

  /** Each match with the attributes the request returns (PS3.18 10.6.3.3). */
  private async shape(page: readonly { entry: IndexEntry; view: DicomJson }[], req: SearchRequest): Promise<DicomJson[]> {
    const tags = returnTags(req);
    const counters = await ancestorCounters(
      this.index,
      page.map((m) => m.entry),
      tags,
    );
    if (tags === 'all') {
      return page.map(({ view }, i) => {
        const all = { ...counters[i], ...view };
        return Object.fromEntries(
          Object.keys(all)
            .sort()
            .map((tag) => [tag, all[tag]!]),
        );
      });
    }
    // The tags in ascending order with their empty element (for a result without them), once per request.
    const named = namedTags(req);
    const returned = [...tags]
      .sort()
      .map((tag) => ({ tag, empty: OMITTED_WHEN_EMPTY.has(tag) && !named.has(tag) ? undefined : emptyElement(tag) }));
    return page.map(({ view }, i) => {
      const above = counters[i]!;
      const out: DicomJson = {};
      for (const { tag, empty } of returned) {
        const element = view[tag] ?? above[tag] ?? empty;
        if (element) out[tag] = element;
      }
      return out;
    });
  }
}

/**
 * The first results that fit the budget. One result over the whole budget is refused (413): no page
 * can hold it, and fewer attributes (includefield) make it fit.
 */
function withinBudget(results: DicomJson[], budget: ResultBudget | undefined): DicomJson[] {
  if (!budget) return results;
  let bytes = 0;
  for (let i = 0; i < results.length; i++) {
    bytes += budget.sizeOf(results[i]!);
    if (bytes <= budget.maxBytes) continue;
    if (i === 0) {
      throw new PayloadTooLargeError(
        `one result alone exceeds the ${budget.maxBytes} bytes a search response holds; request fewer attributes (includefield)`,
      );
    }
    return results.slice(0, i);
  }
  return results;
}

/**
 * The access path, most selective first: the study (and series) of the resource; the UIDs of the
 * level; one study UID key; an exact Patient ID (with the Study Date range); a Patient's Name key
 * with a literal start (with the Study Date range); the Study Date range; else every entry of the level.
 * `pageHint`: how many entries the search expects to read (IndexQuery).
 */
export function chooseIndexQuery(req: SearchRequest, pageHint?: number): IndexQuery {
  const { level, studyInstanceUID, seriesInstanceUID } = req;
  if (studyInstanceUID !== undefined) return { by: 'study', level, studyInstanceUID, seriesInstanceUID };
  const key = (tag: string) => {
    const value = req.parameters.matchKeys.find((k) => k.tag === tag)?.value;
    return value === undefined || value === '' || value === '*' ? undefined : value;
  };
  const ownUids = key(UID_TAG_OF_LEVEL[level]);
  if (ownUids !== undefined) return { by: 'uid', level, uids: [...new Set(ownUids.split(/[,\\]/))] };
  const study = key(Tag.StudyInstanceUID);
  if (study !== undefined && !/[,\\]/.test(study)) return { by: 'study', level, studyInstanceUID: study };
  const studyDate = key(Tag.StudyDate);
  const dateRange = studyDate === undefined ? undefined : dateRangeOf(studyDate);
  const patientId = key(Tag.PatientID);
  if (patientId !== undefined && !/[*?]/.test(patientId)) return { by: 'patient', level, patientId, dateRange, pageHint };
  const patientName = key(Tag.PatientName);
  const prefix = patientName === undefined ? undefined : personNameIndexPrefix(patientName, req.parameters.fuzzymatching);
  if (prefix !== undefined) return { by: 'name', level, prefix, dateRange, pageHint };
  return { by: 'level', level, dateRange, pageHint };
}

/** What an entry offers to matching and to results: its attributes and the archive's computed ones. */
function viewOf(entry: IndexEntry, baseUrl: string): DicomJson {
  const view: DicomJson = { ...entry.attributes, ...countersOf(entry) };
  view[Tag.RetrieveURL] = { vr: 'UR', Value: [absolute(baseUrl, resourcePath(entry))] };
  view[Tag.InstanceAvailability] = { vr: 'CS', Value: [INSTANCE_AVAILABILITY] };
  return view;
}

function countersOf(entry: IndexEntry): DicomJson {
  if (entry.level === 'STUDY') {
    const modalities = [...(entry.modalities ?? [])].sort();
    return {
      ...(modalities.length > 0 && { [Tag.ModalitiesInStudy]: { vr: 'CS', Value: modalities } }),
      [Tag.NumberOfStudyRelatedSeries]: { vr: 'IS', Value: [entry.relatedSeries ?? 0] },
      [Tag.NumberOfStudyRelatedInstances]: { vr: 'IS', Value: [entry.relatedInstances ?? 0] },
    };
  }
  if (entry.level === 'SERIES') {
    return { [Tag.NumberOfSeriesRelatedInstances]: { vr: 'IS', Value: [entry.relatedInstances ?? 0] } };
  }
  return {};
}

function resourcePath(e: IndexEntry): string {
  if (e.level === 'STUDY') return studyPath(e.studyInstanceUID);
  if (e.level === 'SERIES') return seriesPath(e.studyInstanceUID, e.seriesInstanceUID ?? '');
  return instancePath(e.studyInstanceUID, e.seriesInstanceUID ?? '', e.sopInstanceUID ?? '');
}

function ownUid(e: IndexEntry): string {
  return (e.level === 'STUDY' ? e.studyInstanceUID : e.level === 'SERIES' ? e.seriesInstanceUID : e.sopInstanceUID) ?? '';
}

/**
 * Result order: most recent study first, entries without a Study Date last, then by own UID
 * descending, so pages are stable; the order of the GSI sort keys "{studyDate}#{uid}" read backwards.
 */
export function inResultOrder(a: IndexEntry, b: IndexEntry): number {
  const [ka, kb] = [`${a.studyDate}#${ownUid(a)}`, `${b.studyDate}#${ownUid(b)}`];
  return ka > kb ? -1 : ka < kb ? 1 : 0;
}

/**
 * PS3.18 10.6.3.3: the level's default attributes, plus the study's on /series and /instances, plus
 * the series' on /instances and /studies/{study}/instances; the includefield attributes; and the
 * matching keys. 'all' returns everything the entry holds.
 */
function returnTags(req: SearchRequest): readonly string[] | 'all' {
  const { level, parameters } = req;
  if (parameters.includeFields === 'all') return 'all';
  const levels: Level[] = [level];
  if (level !== 'STUDY' && req.studyInstanceUID === undefined) levels.push('STUDY');
  if (level === 'INSTANCE' && req.seriesInstanceUID === undefined) levels.push('SERIES');
  const keyTags = parameters.matchKeys.map((k: MatchKey) => k.tag.split('.')[0]!);
  return [...new Set([...levels.flatMap((l) => DEFAULT_RETURN_ATTRIBUTES[l]), ...parameters.includeFields, ...keyTags])];
}

/**
 * Default return attributes left out of a result that has no value for them, unless the request names
 * them (includefield or a matching key). PS3.18 F.2.5 writes an empty attribute as `{"vr":"CS"}` with
 * no Value, which is conformant, but OHIF 3.13's study list reads `ModalitiesInStudy.Value.length`
 * (getModalities) and throws on it, hiding every other study; Modalities in Study is an optional
 * return key of the Study level (PS3.4 C.6.2.1.2, Table C.6-5: O), so a study without any Modality
 * returns it only when asked.
 */
const OMITTED_WHEN_EMPTY: ReadonlySet<string> = new Set([Tag.ModalitiesInStudy]);

/** The attributes the request itself names: its includefield and matching keys. */
function namedTags(req: SearchRequest): ReadonlySet<string> {
  const { includeFields, matchKeys } = req.parameters;
  return new Set([...(includeFields === 'all' ? [] : includeFields), ...matchKeys.map((k: MatchKey) => k.tag.split('.')[0]!)]);
}

/** An attribute requested but absent: returned with no value (PS3.18 10.6.3.3, PS3.4 C.2.2.1). */
function emptyElement(tag: string): DicomJson[string] | undefined {
  const vr = vrOf(tag);
  return vr === undefined ? undefined : { vr };
}

/**
 * Counters of the study and series above each series or instance result (NumberOfStudyRelated...,
 * ModalitiesInStudy, NumberOfSeriesRelatedInstances), for the results that return them: the studies
 * and series of the page in one batched index read, not one read each.
 */
async function ancestorCounters(index: MetadataIndex, page: readonly IndexEntry[], tags: readonly string[] | 'all'): Promise<DicomJson[]> {
  const wants = (...wanted: string[]) => tags !== 'all' && wanted.some((t) => tags.includes(t));
  const studyCounters = wants(Tag.ModalitiesInStudy, Tag.NumberOfStudyRelatedSeries, Tag.NumberOfStudyRelatedInstances);
  const seriesCounters = wants(Tag.NumberOfSeriesRelatedInstances);
  const idOf = (k: EntryKeys) => `${k.level} ${k.studyInstanceUID} ${k.seriesInstanceUID ?? ''}`;
  const ancestors = new Map<string, EntryKeys>();
  const above = page.map(({ level, studyInstanceUID, seriesInstanceUID }) => {
    const keys: EntryKeys[] = [];
    if (level !== 'STUDY' && studyCounters) keys.push({ level: 'STUDY', studyInstanceUID });
    if (level === 'INSTANCE' && seriesCounters) keys.push({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
    for (const k of keys) ancestors.set(idOf(k), k);
    return keys.map(idOf);
  });
  if (ancestors.size === 0) return page.map(() => ({}));
  const keys = [...ancestors.values()];
  const entries = await index.getEntries(keys);
  const counters = new Map(keys.map((k, i) => [idOf(k), entries[i] ? countersOf(entries[i]) : {}]));
  return above.map((ids) => Object.assign({}, ...ids.map((id) => counters.get(id))) as DicomJson);
}
