/**
 * The matching keys of each NPI category (./npi-categories.ts) as tag paths, from the data dictionary:
 * what Search and Send of the NPI Service match on, and what the index keeps.
 */
import { tagOf } from '../dicom/dictionary';
import { Tag } from '../dicom/tags';
import { COMMON_KEYS, NPI_CATEGORIES, type NpiCategory, type NpiName } from './npi-categories';

/** Keyword path -> tag path ('GGGGEEEE' or 'GGGGEEEE.GGGGEEEE'). */
function tagPath(keywordPath: string): string {
  return keywordPath
    .split('.')
    .map((k) => {
      const tag = tagOf(k);
      if (!tag) throw new TypeError(`${k} is not a DICOM keyword`);
      return tag;
    })
    .join('.');
}

const MATCHABLE: ReadonlyMap<NpiName, ReadonlySet<string>> = new Map(
  NPI_CATEGORIES.map((c) => [c.name, new Set([...COMMON_KEYS, ...c.matchingKeys].map(tagPath))]),
);

/** Tag paths ('GGGGEEEE' or 'GGGGEEEE.GGGGEEEE') a search of the category may match on. */
export function npiMatchableTags(category: NpiCategory): ReadonlySet<string> {
  return MATCHABLE.get(category.name)!;
}

/** Top-level tags the index keeps for matching and returns by default: the matching keys' attributes. */
export function npiIndexedTags(category: NpiCategory): readonly string[] {
  return [...new Set([Tag.SpecificCharacterSet, ...[...npiMatchableTags(category)].map((p) => p.split('.')[0]!)])].sort();
}
