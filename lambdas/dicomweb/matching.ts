/**
 * Attribute matching of QIDO-RS (PS3.18 8.3.4.1) with the semantics of C-FIND matching
 * (PS3.4 C.2.2.2), on DICOM JSON values (PS3.18 Annex F). Pure: no I/O.
 */
import { Tag } from '../dicom/tags';
import type { DateRange } from '../storage/ports';
import type { DicomJson, DicomJsonElement } from '../dicom/json';
import { NAME_SEPARATORS, componentGroups, cutNameTerm, nameIndexFold, trimName, type PersonName } from '../dicom/person-name';

/** One matching key: a tag ('GGGGEEEE') or a sequence path ('GGGGEEEE.GGGGEEEE'), and its value. */
export interface MatchKey {
  readonly tag: string;
  readonly value: string;
}

export interface MatchOptions {
  /** PS3.18 8.3.4.1 fuzzymatching=true: PN keys match case- and accent-insensitively, by prefix. */
  readonly fuzzymatching: boolean;
}

// Value grammars of PS3.5 Table 6.2-1, as a key may carry them (a single value or one end of a range).
const DA = String.raw`\d{8}`;
const TM = String.raw`\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?`;
const DT = String.raw`\d{4}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?)?)?(?:[+-]\d{4})?`;
/** Per VR: a single value, and a range with optional ends. */
const GRAMMAR: Readonly<Record<string, { single: RegExp; range: RegExp }>> = Object.fromEntries(
  Object.entries({ DA, TM, DT }).map(([vr, g]) => [vr, { single: new RegExp(`^(${g})$`), range: new RegExp(`^(${g})?-(${g})?$`) }]),
);

/** VRs that take range matching (PS3.4 C.2.2.2.5) and never wildcards (C.2.2.2.4). */
export function isRangeVr(vr: string): boolean {
  return Object.hasOwn(GRAMMAR, vr);
}

/**
 * A DA/TM/DT key as an inclusive range: 'a-b', 'a-', '-b', or a single value 'a' (= 'a-a').
 * Undefined when the value is not in the VR's grammar (e.g. '2020-01-01' for DA).
 */
export function rangeOf(vr: string, value: string): { from?: string; to?: string; isRange: boolean } | undefined {
  const g = GRAMMAR[vr];
  if (!g) return undefined;
  const single = g.single.exec(value);
  if (single) return { from: single[1], to: single[1], isRange: false };
  const range = g.range.exec(value);
  if (!range || (range[1] === undefined && range[2] === undefined)) return undefined;
  return { from: range[1], to: range[2], isRange: true };
}

/** The Study Date range a StudyDate key selects, for the date-ordered indexes; undefined = any date. */
export function dateRangeOf(value: string): DateRange | undefined {
  if (value === '' || value === '*') return undefined;
  const r = rangeOf('DA', value);
  return r ? { from: r.from, to: r.to } : undefined;
}

/** True when the dataset matches every key (PS3.4 C.2.2.2: keys combine with AND). */
export function matchesAll(dataset: DicomJson, keys: readonly MatchKey[], options: MatchOptions): boolean {
  const topLevel = keys.filter((k) => !k.tag.includes('.'));
  const combined = combinedDateTimeKeys(topLevel);
  for (const key of topLevel) {
    if (combined.has(key.tag)) continue;
    if (!matchesElement(dataset[key.tag], key.value, options)) return false;
  }
  for (const [dateTag, timeTag] of combinedPairs(combined)) {
    const date = keys.find((k) => k.tag === dateTag)!;
    const time = keys.find((k) => k.tag === timeTag)!;
    if (!matchesDateTimePair(dataset[dateTag], dataset[timeTag], date.value, time.value)) return false;
  }
  return matchesSequences(
    dataset,
    keys.filter((k) => k.tag.includes('.')),
    options,
  );
}

/** PS3.4 C.2.2.2.6: an item of the sequence must match all the keys given within it. */
function matchesSequences(dataset: DicomJson, keys: readonly MatchKey[], options: MatchOptions): boolean {
  const bySequence = new Map<string, MatchKey[]>();
  for (const key of keys) {
    const dot = key.tag.indexOf('.');
    const seq = key.tag.slice(0, dot);
    bySequence.set(seq, [...(bySequence.get(seq) ?? []), { tag: key.tag.slice(dot + 1), value: key.value }]);
  }
  for (const [seq, itemKeys] of bySequence) {
    if (itemKeys.every((k) => isUniversal(k.value))) continue;
    const items = (dataset[seq]?.Value ?? []) as DicomJson[];
    if (!items.some((item) => matchesAll(item, itemKeys, options))) return false;
  }
  return true;
}

/** PS3.4 C.2.2.2.3 universal matching: an empty key, or '*' alone (C.2.2.2.4). */
function isUniversal(value: string): boolean {
  return value === '' || value === '*';
}

/** One key against one attribute; a multi-valued attribute matches when any of its values does. */
export function matchesElement(element: DicomJsonElement | undefined, key: string, options: MatchOptions): boolean {
  if (isUniversal(key)) return true;
  const values = element?.Value?.filter((v) => v !== null && v !== undefined && v !== '') ?? [];
  if (!element || values.length === 0) return false;
  const { vr } = element;
  if (vr === 'PN') return values.some((v) => matchesPersonName(v as PersonName, key, options.fuzzymatching));
  if (vr === 'UI') {
    // PS3.4 C.2.2.2.2 list of UID matching; PS3.18 8.3.4.1 also allows a comma-separated list.
    const uids = new Set(key.split(/[,\\]/));
    return values.some((v) => uids.has(String(v).trim()));
  }
  if (isRangeVr(vr)) return values.some((v) => matchesRange(vr, String(v), key));
  if (NUMERIC_VRS.has(vr)) return values.some((v) => Number(v) === Number(key));
  if (vr === 'SQ') return false; // a sequence only matches through its items (dotted keys)
  const pattern = hasWildcard(key) ? wildcardRegExp(key, '') : undefined;
  return values.some((v) => {
    const s = String(v).trim();
    return pattern ? pattern.test(s) : s === key;
  });
}

const NUMERIC_VRS = new Set(['IS', 'DS', 'US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV']);

function hasWildcard(key: string): boolean {
  return key.includes('*') || key.includes('?');
}

/** PS3.4 C.2.2.2.4: '*' any sequence of characters (possibly none), '?' any single character. */
function wildcardRegExp(key: string, flags: string): RegExp {
  const body = [...key].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, `su${flags}`);
}

// ---- DA / TM / DT (PS3.4 C.2.2.2.5) ----

/** A value of the VR as a fixed-width comparable string; `ceil` fills missing parts with their maximum. */
function normalise(vr: string, value: string, ceil: boolean): string {
  const v = value.trim().replaceAll(':', '');
  if (vr === 'DA') return v.replaceAll('.', '');
  if (vr === 'TM') return normaliseTime(v, ceil);
  // DT: the UTC offset is ignored; missing components take their lowest or highest value.
  const [digits = '', fraction] = v.replace(/[+-]\d{4}$/, '').split('.');
  return digits + (ceil ? '99991231235959' : '00000101000000').slice(digits.length) + fractionOf(fraction, ceil);
}

function normaliseTime(v: string, ceil: boolean): string {
  const [digits = '', fraction] = v.split('.');
  return digits + (ceil ? '235959' : '000000').slice(digits.length) + fractionOf(fraction, ceil);
}

/** Six fraction digits; an upper bound covers its whole last unit ('1015' ends at 10:15:59.999999). */
function fractionOf(fraction: string | undefined, ceil: boolean): string {
  return (fraction ?? '').padEnd(6, ceil ? '9' : '0');
}

function matchesRange(vr: string, stored: string, key: string): boolean {
  const range = rangeOf(vr, key);
  if (!range) return false;
  // TM and DT single values are ranges of their precision ('10' is 10:00:00 to 10:59:59.999999).
  if (!range.isRange && vr === 'DA') return stored.trim() === key;
  const value = normalise(vr, stored, false);
  if (range.from !== undefined && value < normalise(vr, range.from, false)) return false;
  if (range.to !== undefined && value > normalise(vr, range.to, true)) return false;
  return true;
}

/** Date/Time attribute pairs that take combined range matching (PS3.4 C.2.2.2.5.1). */
const DATE_TIME_PAIRS: readonly (readonly [string, string])[] = [
  [Tag.StudyDate, Tag.StudyTime],
  [Tag.SeriesDate, Tag.SeriesTime],
  [Tag.ContentDate, Tag.ContentTime],
  [Tag.PerformedProcedureStepStartDate, Tag.PerformedProcedureStepStartTime],
];

/** Tags of the date and time keys that are both ranges, hence matched as one date-time range. */
function combinedDateTimeKeys(keys: readonly MatchKey[]): Set<string> {
  const isRangeKey = (tag: string, vr: string) => {
    const k = keys.find((key) => key.tag === tag);
    return k !== undefined && !isUniversal(k.value) && rangeOf(vr, k.value)?.isRange === true;
  };
  const out = new Set<string>();
  for (const [d, t] of DATE_TIME_PAIRS) {
    if (isRangeKey(d, 'DA') && isRangeKey(t, 'TM')) out.add(d).add(t);
  }
  return out;
}

function combinedPairs(combined: ReadonlySet<string>): (readonly [string, string])[] {
  return DATE_TIME_PAIRS.filter(([d]) => combined.has(d));
}

/**
 * PS3.4 C.2.2.2.5.1: 'StudyDate=20060705-20060707&StudyTime=1000-1800' is the period from
 * July 5 10:00 to July 7 18:00, not 10:00-18:00 on each day.
 */
function matchesDateTimePair(
  dateElement: DicomJsonElement | undefined,
  timeElement: DicomJsonElement | undefined,
  dateKey: string,
  timeKey: string,
): boolean {
  const date = dateElement?.Value?.[0];
  if (typeof date !== 'string' || date.trim() === '') return false;
  const dates = rangeOf('DA', dateKey)!;
  const times = rangeOf('TM', timeKey)!;
  const time = timeElement?.Value?.[0];
  if (typeof time !== 'string' || time.trim() === '') {
    // Without a time, only the dates can be compared.
    return (dates.from === undefined || date >= dates.from) && (dates.to === undefined || date <= dates.to);
  }
  const value = normalise('DA', date, false) + normalise('TM', time, false);
  const from = dates.from === undefined ? undefined : dates.from + normaliseTime(times.from ?? '00', false);
  const to = dates.to === undefined ? undefined : dates.to + normaliseTime(times.to ?? '23', true);
  return (from === undefined || value >= from) && (to === undefined || value <= to);
}

// ---- PN (PS3.18 8.3.4.1, PS3.5 6.2.1) ----

/** Case- and accent-insensitive form used by fuzzy matching: NFD, combining marks removed, lower case. */
export function foldName(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * PN keys are case-insensitive (PS3.18 8.3.4.1). A key with '=' matches group by group; a key with
 * one group matches any of the stored component groups.
 */
function matchesPersonName(v: PersonName | string, key: string, fuzzy: boolean): boolean {
  const stored = componentGroups(v);
  const keyGroups = key.split('=');
  const matchGroup = fuzzy ? fuzzyMatchesGroup : exactMatchesGroup;
  if (keyGroups.length === 1) return stored.some((g) => g !== '' && matchGroup(g, key));
  return keyGroups.every((k, i) => isUniversal(k) || matchGroup(stored[i] ?? '', k));
}

function exactMatchesGroup(group: string, key: string): boolean {
  const name = trimName(group);
  if (hasWildcard(key)) return wildcardRegExp(key, 'i').test(name);
  return name.toLowerCase() === trimName(key).toLowerCase();
}

/**
 * Fuzzy matching: each key component is a prefix of a name component ('muller' matches
 * 'Müller^Hans', so does 'han'); with '^' the key's components are matched in place.
 */
function fuzzyMatchesGroup(group: string, key: string): boolean {
  const name = foldName(trimName(group));
  const k = foldName(trimName(key));
  if (hasWildcard(k)) {
    const re = wildcardRegExp(k, '');
    return re.test(name) || name.split(/[\^\s]+/).some((c) => re.test(c));
  }
  const components = name.split('^');
  const wordsOf = (c: string | undefined) => (c === undefined ? [] : [c, ...c.split(/\s+/)]);
  if (!k.includes('^')) return components.some((c) => wordsOf(c).some((w) => w.startsWith(k)));
  return k.split('^').every((kc, i) => kc === '' || wordsOf(components[i]).some((w) => w.startsWith(kc)));
}

/**
 * Key characters whose case-insensitive match (simple case folding, as the wildcard regular
 * expression compares) is a character nameIndexFold tells apart: Greek iota and the combining
 * ypogegrammeni, a mark the fold removes; the ligatures 'ﬅ' and 'ﬆ'. An exact key's prefix stops
 * before them (test/unit/dicomweb/matching.test.ts checks every code point for others).
 */
const UNFOLDABLE = /[\u0345\u0399\u03B9\u1FBE\uFB05\uFB06]/u;

/**
 * The prefix every index term of a matching name starts with, for a Patient's Name key: the folded
 * first word of the key's literal start. Undefined when the key has none (universal, a leading
 * wildcard, only separators): the search then reads the whole level.
 */
export function personNameIndexPrefix(key: string, fuzzy: boolean): string | undefined {
  if (isUniversal(key)) return undefined;
  const groups = key.split('=');
  // With '=', every group given must match its own stored group: any one of them narrows.
  for (const group of groups) {
    if (isUniversal(group)) continue;
    const prefix = groupPrefix(group, fuzzy);
    if (prefix !== undefined) return prefix;
  }
  return undefined;
}

function groupPrefix(key: string, fuzzy: boolean): string | undefined {
  // What exactMatchesGroup and fuzzyMatchesGroup compare the name with.
  let literal = fuzzy ? foldName(trimName(key)) : hasWildcard(key) ? key : trimName(key);
  literal = literal.split(/[*?]/)[0]!;
  if (!fuzzy) literal = literal.split(UNFOLDABLE)[0]!;
  const word = nameIndexFold(literal)
    .replace(/^[\^\s]+/, '')
    .split(NAME_SEPARATORS)[0]!;
  return word === '' ? undefined : cutNameTerm(word);
}
