/**
 * Keyword / tag / VR lookups of any attribute in the data dictionary (PS3.6), from dcmjs's dictionary.
 * Importing this module loads dcmjs; code that only names the tags of ./tags.ts does not need it.
 */
import { data as dcmjsData } from 'dcmjs';

const { DicomMetaDictionary } = dcmjsData;

const HEX_TAG = /^(?:([0-9A-F]{4})([0-9A-F]{4})|\(([0-9A-F]{4}),([0-9A-F]{4})\))$/i;

/** Pseudo-VRs of dcmjs's dictionary for "X or Y" entries of PS3.6, as the VRs listed there. */
const DICTIONARY_VRS: Readonly<Record<string, readonly string[]>> = {
  ox: ['OB', 'OW'],
  xs: ['US', 'SS'],
  lt: ['US', 'SS', 'OW'],
  up: ['UL'], // offset of a directory record (PS3.10)
};

/** Normalises '00100010', '00100010' in lower case or '(0010,0010)' to '00100010'; undefined otherwise. */
function normaliseTag(value: string): string | undefined {
  const m = HEX_TAG.exec(value);
  return m ? `${m[1] ?? m[3]}${m[2] ?? m[4]}`.toUpperCase() : undefined;
}

/** Dictionary entry of a tag, trying the repeating-group form (PS3.5 7.6: 50xx, 60xx) too. */
function dictionaryEntry(tag: string) {
  const group = tag.slice(0, 4);
  const element = tag.slice(4);
  return DicomMetaDictionary.dictionary[`(${group},${element})`] ?? DicomMetaDictionary.dictionary[`(${group.slice(0, 2)}xx,${element})`];
}

/** 'PatientName', '00100010', '00100010' in lower case or '(0010,0010)' -> '00100010'; undefined when unknown. */
export function tagOf(keywordOrTag: string): string | undefined {
  const tag = normaliseTag(keywordOrTag);
  if (tag !== undefined) return tag;
  const { nameMap } = DicomMetaDictionary;
  const name = [keywordOrTag, `RETIRED_${keywordOrTag}`].find((n) => Object.hasOwn(nameMap, n));
  const entry = name === undefined ? undefined : nameMap[name];
  if (!entry) return undefined;
  // Repeating groups (e.g. '(60xx,3000)') are answered with their first group.
  return normaliseTag(entry.tag.replace(/xx/gi, '00'));
}

/** '00100010' -> 'PatientName' (retired attributes without dcmjs's 'RETIRED_' prefix); undefined when unknown. */
export function keywordOf(tag: string): string | undefined {
  const normal = normaliseTag(tag);
  const name = normal === undefined ? undefined : dictionaryEntry(normal)?.name;
  return name?.replace(/^RETIRED_/, '');
}

/** Every VR PS3.6 allows for a tag ('US or SS' -> ['US', 'SS']); empty when unknown. */
export function vrsOf(tag: string): readonly string[] {
  const normal = normaliseTag(tag);
  const vr = normal === undefined ? undefined : dictionaryEntry(normal)?.vr;
  if (vr === undefined || vr === 'na') return [];
  return DICTIONARY_VRS[vr] ?? [vr];
}

/** The VR of a tag in the data dictionary (the first one of 'US or SS' and the like); undefined when unknown. */
export function vrOf(tag: string): string | undefined {
  return vrsOf(tag)[0];
}
