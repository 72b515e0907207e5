/**
 * Person Name values (PS3.5 6.2.1) and their index terms. The terms are derived from the stored DICOM
 * JSON alone, so this lives in the codec layer: the QIDO-RS matcher (lambdas/dicomweb/matching.ts)
 * narrows a search with them, and the index adapters compute them where an entry is written and where
 * an existing table is brought up to date (storage/name-terms.ts), which has no service to ask.
 */
import type { DicomJsonElement } from './json';

/** A PN value of the DICOM JSON Model (PS3.18 F.2.2): its three component groups. */
export interface PersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

/** The component groups of a PN value, from the JSON object or the '='-separated string form. */
export function componentGroups(v: PersonName | string): string[] {
  if (typeof v === 'string') return v.split('=');
  return [v.Alphabetic ?? '', v.Ideographic ?? '', v.Phonetic ?? ''];
}

/** Trailing empty components are insignificant ('Doe^John^^' is 'Doe^John'). */
export function trimName(s: string): string {
  return s.trim().replace(/\^+$/, '');
}

// ---- Patient's Name index (lambdas/storage/table-schema.ts, ByLevel name partitions) ----
//
// The index only narrows a search: every entry the PN rules of lambdas/dicomweb/matching.ts match must be among its
// candidates, and matchesAll still decides. So its terms are what both rules compare, made coarser:
// - exact matching compares a whole component group (its start, for a wildcard key), case-insensitive;
// - fuzzy matching compares the start of the whole name, of a component or of a word.
// Both start at a word, so one term per word of every component group (family, given, middle...
// names, and their words) serves both, and a key narrows to the terms starting with its first word.
// A single family-name term would not do: fuzzy 'john' must find 'Doe^John', and an exact key
// matches the Ideographic and Phonetic groups too. Hence several terms per entry, each an item.

/** Terms and prefixes are cut here (PS3.5 6.2: a component group holds at most 64 characters). */
export const NAME_TERM_MAX_LENGTH = 64;

export const NAME_SEPARATORS = /[\^\s]+/;
const MARKS = /\p{M}/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/**
 * The index form of a name: code point by code point, canonical decomposition without marks (as
 * foldName), then the lower case of the upper case, so characters that case-fold alike ('ſ' and 's',
 * 'ẞ' and 'ß', final and medial sigma) fold alike. Being per code point, a prefix stays a prefix.
 */
export function nameIndexFold(s: string): string {
  let out = '';
  // A lone surrogate is no UTF-8, which DynamoDB keys are: U+FFFD stands for it, in terms and keys alike.
  for (const c of s.replace(LONE_SURROGATE, '\uFFFD').normalize('NFD').replace(MARKS, '')) {
    const upper = c.toUpperCase();
    out += [...upper].length === 1 ? upper.toLowerCase() : c.toLowerCase();
  }
  return out.replace(MARKS, '');
}

/** A term or prefix cut to NAME_TERM_MAX_LENGTH code points. */
export function cutNameTerm(term: string): string {
  const codePoints = [...term];
  return codePoints.length > NAME_TERM_MAX_LENGTH ? codePoints.slice(0, NAME_TERM_MAX_LENGTH).join('') : term;
}

/**
 * Values of a PN element the index terms come from. Patient's Name has one (VM 1); a name of thousands
 * of values, each of thousands of words, would otherwise become an index item per word.
 */
export const NAME_INDEX_MAX_VALUES = 8;

/**
 * The index terms of a PN element: every word of every component group of every value, folded. Of an
 * invalid name, the first NAME_INDEX_MAX_VALUES values and the first NAME_TERM_MAX_LENGTH characters of
 * each group (PS3.5 6.2's limit), so an entry has at most a few hundred terms, whatever it holds.
 */
export function personNameIndexTerms(element: DicomJsonElement | undefined): string[] {
  if (element?.vr !== 'PN') return [];
  const terms = new Set<string>();
  for (const v of (element.Value ?? []).slice(0, NAME_INDEX_MAX_VALUES)) {
    if (v === null || (typeof v !== 'string' && typeof v !== 'object')) continue;
    for (const group of componentGroups(v as PersonName | string)) {
      if (typeof group !== 'string') continue;
      for (const word of nameIndexFold(cutNameTerm(trimName(group))).split(NAME_SEPARATORS)) if (word !== '') terms.add(cutNameTerm(word));
    }
  }
  return [...terms];
}
