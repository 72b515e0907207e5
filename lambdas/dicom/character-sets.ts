/**
 * Specific Character Set (0008,0005): decoding the values of SH, LO, ST, LT, PN, UC and UT (PS3.5
 * 6.1.2.3) from the character sets of PS3.3 C.12.1.1.2, with and without ISO 2022 code extensions.
 *
 * - Table C.12-2 (single byte, no extensions), e.g. `ISO_IR 100`: one ISO 8859 part or JIS X 0201.
 * - Tables C.12-3 and C.12-4 (ISO 2022 code extensions), e.g. `\ISO 2022 IR 87` (Japanese) or
 *   `\ISO 2022 IR 149` (Korean): escape sequences switch G0 or G1 within a value (PS3.5 6.1.2.5), and
 *   the set of value 1 is active again at each delimiter and control character (PS3.5 6.1.2.5.3).
 * - Table C.12-5 (multi-byte, no extensions): `ISO_IR 192` (UTF-8), `GB18030`, `GBK`.
 *
 * A pure module: bytes in, strings out. A term it does not know is read as ISO 8859-1, which keeps every
 * byte as one character; the stored object keeps the original bytes whatever the decoding.
 */
import { Tag } from './tags';

/** A coded character set as designated into G0 (bytes 0x21-0x7E) or G1 (bytes 0xA1-0xFE). */
interface GraphicSet {
  /** 1 for a 94/96-character set, 2 for a 94x94 set (JIS X 0208/0212, KS X 1001, GB 2312). */
  readonly bytesPerCharacter: 1 | 2;
  /** Decodes a run of characters of this set, as bytes of the data (G0 sets 7-bit, G1 sets 8-bit). */
  decode(run: Uint8Array): string;
}

const ESC = 0x1b;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const EQUALS = 0x3d;

/**
 * WHATWG's decoder for a label (malformed bytes become U+FFFD), made on first use: a function that
 * never meets these character sets pays nothing for them at its cold start.
 */
function decoder(label: string): { decode(bytes: Uint8Array): string } {
  let made: { decode(bytes: Uint8Array): string } | undefined;
  return { decode: (bytes) => (made ??= new TextDecoder(label)).decode(bytes) };
}

/** One byte to one character: 0x00-0x9F as themselves (ASCII, C1 controls), 0xA0-0xFF through the ISO 8859 part's decoder. */
function iso8859(label: string): GraphicSet {
  let table: string[] | undefined;
  const make = () => {
    const textDecoder = new TextDecoder(label);
    return Array.from({ length: 256 }, (_, byte) => (byte < 0xa0 ? String.fromCharCode(byte) : textDecoder.decode(Uint8Array.of(byte))));
  };
  return { bytesPerCharacter: 1, decode: (run) => Array.from(run, (byte) => (table ??= make())[byte]).join('') };
}

/** The graphic sets by their ISO 2022 designation (PS3.3 Tables C.12-3 and C.12-4). */
const LATIN_1 = iso8859('iso-8859-1'); // windows-1252, which WHATWG may make of it, equals ISO 8859-1 at 0xA0-0xFF
const ASCII = LATIN_1; // ISO-IR 6 in G0: the same table, of which G0 uses 0x20-0x7E
const JIS_X0201_ROMAJI: GraphicSet = {
  // ISO-IR 14: ASCII but for YEN SIGN and OVERLINE
  bytesPerCharacter: 1,
  decode: (run) => Array.from(run, (b) => (b === 0x5c ? '\u00a5' : b === 0x7e ? '\u203e' : String.fromCharCode(b))).join(''),
};
const JIS_X0201_KATAKANA: GraphicSet = {
  // ISO-IR 13: half-width katakana at 0xA1-0xDF
  bytesPerCharacter: 1,
  decode: (run) => Array.from(run, (b) => (b >= 0xa1 && b <= 0xdf ? String.fromCharCode(0xff61 + b - 0xa1) : '\ufffd')).join(''),
};
const eucJp = decoder('euc-jp');
const JIS_X0208: GraphicSet = {
  // ISO-IR 87 in G0: the EUC-JP form is each byte with its high bit set
  bytesPerCharacter: 2,
  decode: (run) => eucJp.decode(run.map((b) => b | 0x80)),
};
const JIS_X0212: GraphicSet = {
  // ISO-IR 159 in G0: EUC-JP code set 3, SS3 (0x8F) before each character
  bytesPerCharacter: 2,
  decode: (run) => {
    const euc = new Uint8Array((run.length / 2) * 3);
    for (let i = 0, o = 0; i + 1 < run.length; i += 2, o += 3) euc.set([0x8f, run[i]! | 0x80, run[i + 1]! | 0x80], o);
    return eucJp.decode(euc);
  },
};
const eucKr = decoder('euc-kr');
const KS_X1001: GraphicSet = { bytesPerCharacter: 2, decode: (run) => eucKr.decode(run) }; // ISO-IR 149 in G1
const gbk = decoder('gbk');
const GB_2312: GraphicSet = { bytesPerCharacter: 2, decode: (run) => gbk.decode(run) }; // ISO-IR 58 in G1

const LATIN_2 = iso8859('iso-8859-2');
const LATIN_3 = iso8859('iso-8859-3');
const LATIN_4 = iso8859('iso-8859-4');
const CYRILLIC = iso8859('iso-8859-5');
const ARABIC = iso8859('iso-8859-6');
const GREEK = iso8859('iso-8859-7');
const HEBREW = iso8859('iso-8859-8');
const LATIN_5 = iso8859('iso-8859-9'); // windows-1254 in WHATWG, equal at 0xA0-0xFF
const LATIN_9 = iso8859('iso-8859-15');
const THAI = iso8859('windows-874'); // TIS 620-2533, which windows-874 extends below 0xA0 only

/** Where an escape sequence puts its set. */
type Designation = { readonly g: 0 | 1; readonly set: GraphicSet };

/** Escape sequences (the bytes after ESC) of PS3.3 Tables C.12-3 and C.12-4. */
const ESCAPE_SEQUENCES: ReadonlyMap<string, Designation> = new Map([
  ['(B', { g: 0, set: ASCII }], // ISO-IR 6
  ['(J', { g: 0, set: JIS_X0201_ROMAJI }], // ISO-IR 14
  [')I', { g: 1, set: JIS_X0201_KATAKANA }], // ISO-IR 13
  ['-A', { g: 1, set: LATIN_1 }], // ISO-IR 100
  ['-B', { g: 1, set: LATIN_2 }], // ISO-IR 101
  ['-C', { g: 1, set: LATIN_3 }], // ISO-IR 109
  ['-D', { g: 1, set: LATIN_4 }], // ISO-IR 110
  ['-L', { g: 1, set: CYRILLIC }], // ISO-IR 144
  ['-G', { g: 1, set: ARABIC }], // ISO-IR 127
  ['-F', { g: 1, set: GREEK }], // ISO-IR 126
  ['-H', { g: 1, set: HEBREW }], // ISO-IR 138
  ['-M', { g: 1, set: LATIN_5 }], // ISO-IR 148
  ['-b', { g: 1, set: LATIN_9 }], // ISO-IR 203
  ['-T', { g: 1, set: THAI }], // ISO-IR 166
  ['$B', { g: 0, set: JIS_X0208 }], // ISO-IR 87
  ['$@', { g: 0, set: JIS_X0208 }], // ISO-IR 42, JIS C 6226-1978, which JIS X 0208 supersedes
  ['$(D', { g: 0, set: JIS_X0212 }], // ISO-IR 159
  ['$)C', { g: 1, set: KS_X1001 }], // ISO-IR 149
  ['$)A', { g: 1, set: GB_2312 }], // ISO-IR 58
]);

/** The sets in G0 and G1 while decoding; G1 undefined when no set is designated there. */
interface CodeState {
  readonly g0: GraphicSet;
  readonly g1: GraphicSet | undefined;
}

/** What a defined term of (0008,0005) puts in G0 and G1, with or without code extensions. */
const SINGLE_BYTE_TERMS: ReadonlyMap<string, CodeState> = new Map([
  ['IR 6', { g0: ASCII, g1: undefined }],
  ['IR 100', { g0: ASCII, g1: LATIN_1 }],
  ['IR 101', { g0: ASCII, g1: LATIN_2 }],
  ['IR 109', { g0: ASCII, g1: LATIN_3 }],
  ['IR 110', { g0: ASCII, g1: LATIN_4 }],
  ['IR 144', { g0: ASCII, g1: CYRILLIC }],
  ['IR 127', { g0: ASCII, g1: ARABIC }],
  ['IR 126', { g0: ASCII, g1: GREEK }],
  ['IR 138', { g0: ASCII, g1: HEBREW }],
  ['IR 148', { g0: ASCII, g1: LATIN_5 }],
  ['IR 203', { g0: ASCII, g1: LATIN_9 }],
  ['IR 13', { g0: JIS_X0201_ROMAJI, g1: JIS_X0201_KATAKANA }],
  ['IR 166', { g0: ASCII, g1: THAI }],
]);
/** Multi-byte sets with code extensions: only ever designated by escape sequences after value 1. */
const MULTI_BYTE_2022_TERMS: ReadonlyMap<string, CodeState> = new Map([
  ['IR 87', { g0: ASCII, g1: undefined }],
  ['IR 159', { g0: ASCII, g1: undefined }],
  ['IR 149', { g0: ASCII, g1: KS_X1001 }],
  ['IR 58', { g0: ASCII, g1: GB_2312 }],
]);
/** Table C.12-5: multi-byte sets without code extensions, decoded whole. */
const WHOLE_VALUE_TERMS: ReadonlyMap<string, string> = new Map([
  ['ISO_IR 192', 'utf-8'],
  ['GB18030', 'gb18030'],
  ['GBK', 'gbk'],
]);

/** PS3.5 6.1.2.3: the VRs whose values are in the Specific Character Set; all others use the default repertoire. */
export const CHARACTER_SET_VRS: ReadonlySet<string> = new Set(['SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT']);

/** The defined term of UTF-8 (Table C.12-5): what text the archive writes (dcmjs writes UTF-8) is in. */
export const UTF8_TERM = 'ISO_IR 192';

/**
 * True when a text value of a data set (dcmjs dict or DICOM JSON), or of its items without a character
 * set of their own, is not ASCII: written out, it needs a Specific Character Set.
 */
export function hasNonAsciiText(set: Readonly<Record<string, { readonly vr: string; readonly Value?: readonly unknown[] }>>): boolean {
  return Object.entries(set).some(([tag, element]) => {
    if (tag === Tag.SpecificCharacterSet) return false;
    if (element.vr === 'SQ') {
      return (element.Value ?? []).some((item) => {
        const nested = item as Record<string, { vr: string; Value?: unknown[] }>;
        return !nested[Tag.SpecificCharacterSet] && hasNonAsciiText(nested);
      });
    }
    return CHARACTER_SET_VRS.has(element.vr) && /[^\x00-\x7f]/.test(JSON.stringify(element.Value ?? []));
  });
}

/** Decodes the bytes of one value (all its values, with their backslashes) of a VR the character set applies to. */
export interface TextDecoding {
  decode(bytes: Uint8Array, vr: string): string;
  /** True when bytes 0x00-0x7F other than ESC decode to the same ASCII characters (all but JIS X 0201 Romaji in G0). */
  readonly asciiIsAscii: boolean;
}

/** The defined terms of a Specific Character Set (0008,0005) as its value reads: values split at "\\", padding trimmed. */
export function specificCharacterSetTerms(value: string): string[] {
  return value.split('\\').map((term) => term.trim());
}

/** The Specific Character Set of a data set, from the values of (0008,0005) (PS3.3 C.12.1.1.2). */
export function characterSetDecoding(terms: readonly string[]): TextDecoding {
  const first = (terms[0] ?? '').trim();
  const whole = WHOLE_VALUE_TERMS.get(first);
  if (whole) {
    const textDecoder = decoder(whole);
    return { decode: (bytes) => textDecoder.decode(bytes), asciiIsAscii: true };
  }
  // Value 1 empty: the default repertoire (ISO-IR 6) is the initial set (PS3.3 C.12.1.1.2).
  const initial = initialState(first) ?? { g0: ASCII, g1: undefined };
  const extensions = first.startsWith('ISO 2022') || terms.length > 1;
  return { decode: (bytes, vr) => decodeIso2022(bytes, vr, initial, extensions), asciiIsAscii: initial.g0 === ASCII };
}

function initialState(term: string): CodeState | undefined {
  if (term === '') return { g0: ASCII, g1: undefined };
  const match = /^ISO(?:_| 2022 )(IR \d+)$/.exec(term);
  if (!match) return undefined;
  return SINGLE_BYTE_TERMS.get(match[1]!) ?? MULTI_BYTE_2022_TERMS.get(match[1]!);
}

/**
 * True when a Specific Character Set decodes exactly as dcmjs reads strings by default (ISO 8859-1,
 * one character per byte): absent, empty, ISO_IR 6 or ISO_IR 100, single-valued.
 */
export function isLatin1Compatible(terms: readonly string[]): boolean {
  if (terms.length > 1) return false;
  const first = (terms[0] ?? '').trim();
  return first === '' || first === 'ISO_IR 6' || first === 'ISO_IR 100';
}

/** VRs of one value, in which "\\" is a character; in the others it delimits values and resets the code state (PS3.5 6.1.2.5.3). */
const SINGLE_VALUED_TEXT_VRS: ReadonlySet<string> = new Set(['ST', 'LT', 'UT']);

/**
 * ISO 2022 decoding (PS3.5 6.1.2.5): ESC sequences designate G0 or G1; bytes 0x21-0x7E are G0's, bytes
 * 0xA1-0xFE G1's. Before each control character, each "\" between values, and each "^" and "=" of a
 * person name the encoder returns to the initial sets (PS3.5 6.1.2.5.3), so the decoder does so there
 * too; inside a two-byte G0 set those bytes are halves of characters, not delimiters.
 */
function decodeIso2022(bytes: Uint8Array, vr: string, initial: CodeState, extensions: boolean): string {
  let state: CodeState = initial;
  const delimiters = (byte: number) =>
    (byte === BACKSLASH && !SINGLE_VALUED_TEXT_VRS.has(vr)) || (vr === 'PN' && (byte === CARET || byte === EQUALS));
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i]!;
    if (byte === ESC && extensions) {
      const designation = escapeSequenceAt(bytes, i + 1);
      if (designation) {
        state = designation.g === 0 ? { g0: designation.set, g1: state.g1 } : { g0: state.g0, g1: designation.set };
        i += 1 + designation.length;
        continue;
      }
    }
    if (byte < 0x20 || byte === 0x7f) {
      state = initial;
      out += String.fromCharCode(byte);
      i++;
      continue;
    }
    if (byte < 0x80) {
      if (delimiters(byte) && state.g0.bytesPerCharacter === 1) {
        state = initial;
        out += String.fromCharCode(byte);
        i++;
        continue;
      }
      if (byte === 0x20 || state.g0.bytesPerCharacter === 1) {
        // A space is a space in any set (ISO 2022 6.3.2); inside a two-byte G0 set it stands alone.
        const g0 = state.g0;
        const end = g0.bytesPerCharacter === 2 ? i + 1 : runEnd(bytes, i, (b) => b >= 0x20 && b < 0x7f && !delimiters(b));
        out += g0.bytesPerCharacter === 2 ? ' ' : g0.decode(bytes.subarray(i, end));
        i = end;
        continue;
      }
      // A two-byte set in G0: bytes 0x21-0x7E in pairs, whatever they would mean in ASCII.
      const end = runEnd(bytes, i, (b) => b > 0x20 && b < 0x7f);
      out += decodeRun(state.g0, bytes.subarray(i, end));
      i = end;
      continue;
    }
    const end = runEnd(bytes, i, (b) => b >= 0x80);
    out += decodeRun(state.g1 ?? LATIN_1, bytes.subarray(i, end));
    i = end;
  }
  return out;
}

/** A run of bytes of one set; of a two-byte set, a last lone byte (half a character) becomes U+FFFD. */
function decodeRun(set: GraphicSet, run: Uint8Array): string {
  if (set.bytesPerCharacter === 1 || run.length % 2 === 0) return set.decode(run);
  return `${set.decode(run.subarray(0, run.length - 1))}\ufffd`;
}

function runEnd(bytes: Uint8Array, start: number, inRun: (byte: number) => boolean): number {
  let end = start + 1;
  while (end < bytes.length && inRun(bytes[end]!)) end++;
  return end;
}

/** The designation whose escape sequence (after ESC) starts at `at`, with its length. */
function escapeSequenceAt(bytes: Uint8Array, at: number): (Designation & { readonly length: number }) | undefined {
  for (const length of [2, 3]) {
    if (at + length > bytes.length) break;
    const designation = ESCAPE_SEQUENCES.get(String.fromCharCode(...bytes.subarray(at, at + length)));
    if (designation) return { ...designation, length };
  }
  return undefined;
}

/**
 * The runtime's ISO 8859-1 decoder, as dcmjs uses it. WHATWG makes the label windows-1252, which
 * decodes most of 0x80-0x9F to characters above U+00FF; Node 20 decodes them as themselves.
 */
const latin1 = decoder('iso-8859-1');
/** The bytes of 0x80-0x9F the runtime's ISO 8859-1 decodes to characters above U+00FF, by character. */
let highLatin1Bytes: ReadonlyMap<number, number> | undefined;

/** The byte the runtime's ISO 8859-1 decoding gave this character from; undefined when none did. */
function latin1ByteOf(code: number): number | undefined {
  if (code <= 0xff) return code;
  highLatin1Bytes ??= new Map(Array.from({ length: 0x20 }, (_, i) => [latin1.decode(Uint8Array.of(0x80 + i)).charCodeAt(0), 0x80 + i]));
  return highLatin1Bytes.get(code);
}

/**
 * The bytes a string decoded as ISO 8859-1 came from (dcmjs's default decoding). A character no byte
 * decodes to becomes "?".
 */
export function latin1Bytes(text: string): Uint8Array {
  if (!/[^\x00-\xff]/.test(text)) return Buffer.from(text, 'latin1');
  return Uint8Array.from(text, (ch) => latin1ByteOf(ch.charCodeAt(0)) ?? 0x3f);
}

/** Any ISO 2022 escape sequence of PS3.3 Tables C.12-3 and C.12-4 honoured, from the default repertoire. */
const ANY_CODE_EXTENSION = characterSetDecoding(['ISO 2022 IR 6']);
/** The same from ISO 2022 IR 13 (JIS X 0201: Romaji in G0, half-width katakana in G1). */
const ANY_CODE_EXTENSION_FROM_JIS_X0201 = characterSetDecoding(['ISO 2022 IR 13']);
/** Half-width katakana as a Shift_JIS reading of bytes 0xA1-0xDF gives them (U+FF61-U+FF9F). */
const HALF_WIDTH_KATAKANA = /[\uff61-\uff9f]/;

/**
 * A value read in the set of value 1 of an ISO 2022 Specific Character Set by a reader that knows no
 * code extensions (dcmjs, given more than one value of (0008,0005)), which leaves each escape sequence
 * in the text as characters: decoded again from its bytes, honouring the escape sequences. dcmjs reads
 * value 1 as ISO 8859-1, or for ISO 2022 IR 13 as Shift_JIS, whose half-width katakana tell it: both
 * give back their bytes. Undefined when the text holds no ESC, or a character neither reading gives.
 */
export function redecodeCodeExtensions(text: string, vr: string): string | undefined {
  if (!text.includes('\x1b')) return undefined;
  const fromJisX0201 = HALF_WIDTH_KATAKANA.test(text);
  const bytes: number[] = [];
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    const byte = fromJisX0201 && code >= 0xff61 && code <= 0xff9f ? 0xa1 + code - 0xff61 : latin1ByteOf(code);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  return (fromJisX0201 ? ANY_CODE_EXTENSION_FROM_JIS_X0201 : ANY_CODE_EXTENSION).decode(Uint8Array.from(bytes), vr);
}
