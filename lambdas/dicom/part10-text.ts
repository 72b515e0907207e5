/**
 * Text values of a data set decoded in their own character sets (PS3.5 6.1.2.3), after dcmjs read
 * them as ISO 8859-1: dcmjs honours a data set's Specific Character Set (0008,0005) only when it has
 * one value dcmjs knows, and reads sequence items always as ISO 8859-1.
 */
import { data as dcmjsData } from 'dcmjs';
import {
  CHARACTER_SET_VRS,
  UTF8_TERM,
  characterSetDecoding,
  latin1Bytes,
  specificCharacterSetTerms,
  type TextDecoding,
} from './character-sets';
import type { DataSet } from './data-set';
import { Tag } from './tags';

/** Text of ASCII characters other than ESC: the same in every character set whose G0 is ASCII. */
const PLAIN_ASCII = /^[\x00-\x1a\x1c-\x7f]*$/;
/** dcmjs's reader of each VR, made once. */
const readers = new Map<string, ReturnType<typeof dcmjsData.ValueRepresentation.createByTypeString>>();
function dcmjsValueReader(vr: string) {
  let reader = readers.get(vr);
  if (!reader) readers.set(vr, (reader = dcmjsData.ValueRepresentation.createByTypeString(vr)));
  return reader;
}

/**
 * Decodes the text values of a data set that dcmjs read as ISO 8859-1 (its blanked character sets)
 * in the character set that applies to each (PS3.5 6.1.2.3): the data set's own, else the enclosing
 * data set's. `designated` holds the original terms of the blanked (0008,0005)s in the order of the
 * bytes, which is the order dcmjs read them in. Afterwards the values are Unicode and each (0008,0005)
 * says ISO_IR 192, as dcmjs leaves every data set it decodes, so that writing them back is consistent.
 */
export function decodeTextValues(set: DataSet, inherited: TextDecoding, designated: string[][]): void {
  let decoding = inherited;
  for (const [tag, element] of Object.entries(set)) {
    const raw = (element as { _rawValue?: unknown })._rawValue;
    const text = Array.isArray(raw) ? raw.join('\\') : typeof raw === 'string' ? raw : undefined;
    if (tag === Tag.SpecificCharacterSet) {
      // Blanked here, or (in a sequence of defined length in Implicit VR, which the walk does not enter) left as it was.
      const terms = text === undefined || text.trim() === '' ? (designated.shift() ?? []) : specificCharacterSetTerms(text);
      decoding = characterSetDecoding(terms);
      set[tag] = { vr: 'CS', Value: [UTF8_TERM] };
    } else if (element.vr === 'SQ') {
      for (const item of element.Value ?? []) decodeTextValues(item as DataSet, decoding, designated);
    } else if (CHARACTER_SET_VRS.has(element.vr) && text && !(decoding.asciiIsAscii && PLAIN_ASCII.test(text))) {
      const decoded = decoding.decode(latin1Bytes(text), element.vr);
      const reader = dcmjsValueReader(element.vr);
      // As dcmjs keeps them: PN formatted whole (into one object per value), LT as one value, the rest split at "\\".
      const values = element.vr === 'PN' ? decoded : element.vr === 'LT' ? [decoded] : decoded.split('\\');
      Object.assign(element, {
        Value: typeof values === 'string' ? (reader.applyFormatting(values) as unknown[]) : values.map((v) => reader.applyFormatting(v)),
        _rawValue: values,
      });
    }
  }
}
