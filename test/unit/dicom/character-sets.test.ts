import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { characterSetDecoding, isLatin1Compatible, latin1Bytes, redecodeCodeExtensions } from '../../../lambdas/dicom/character-sets';
import { JAPANESE_NAME, encoded, type EncodedPart } from '../../support/dicom-factory';

const decode = (terms: string[], vr: string, ...parts: EncodedPart[]) => characterSetDecoding(terms).decode(encoded(...parts), vr);

describe('characterSetDecoding: the examples of PS3.5 Annexes H to K', () => {
  it('H.3.1: Japanese, \\ISO 2022 IR 87 (JIS X 0208 designated into G0, back to ASCII before each delimiter)', () => {
    expect(characterSetDecoding(['', 'ISO 2022 IR 87']).decode(JAPANESE_NAME.bytes, 'PN')).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('H.3.2: Japanese, ISO 2022 IR 13\\ISO 2022 IR 87 (half-width katakana in G1, JIS X 0201 Romaji in G0)', () => {
    const value = decode(
      ['ISO 2022 IR 13', 'ISO 2022 IR 87'],
      'PN',
      { hex: 'd4 cf c0 de' },
      '^',
      { hex: 'c0 db b3' },
      '=',
      { hex: '1b 24 42 3b 33 45 44 1b 28 4a' },
      '^',
      { hex: '1b 24 42 42 40 4f 3a 1b 28 4a' },
      '=',
      { hex: '1b 24 42 24 64 24 5e 24 40 1b 28 4a' },
      '^',
      { hex: '1b 24 42 24 3f 24 6d 24 26 1b 28 4a' },
    );
    expect(value).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('I.2: Korean, \\ISO 2022 IR 149 (KS X 1001 designated into G1 before each run)', () => {
    const value = decode(
      ['', 'ISO 2022 IR 149'],
      'PN',
      'Hong^Gildong=',
      { hex: '1b 24 29 43 fb f3' },
      '^',
      { hex: '1b 24 29 43 d1 ce d4 d7' },
      '=',
      { hex: '1b 24 29 43 c8 ab' },
      '^',
      { hex: '1b 24 29 43 b1 e6 b5 bf' },
    );
    expect(value).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('J: Chinese, GB18030 (no code extensions)', () => {
    expect(decode(['GB18030'], 'PN', 'Wang^XiaoDong=', { hex: 'cd f5 5e d0 a1 b6 ab' }, '=')).toBe('Wang^XiaoDong=王^小东=');
  });

  it('K: Chinese, \\ISO 2022 IR 58 (GB 2312 designated into G1)', () => {
    const value = decode(
      ['', 'ISO 2022 IR 58'],
      'PN',
      'Zhang^XiaoDong=',
      { hex: '1b 24 29 41 d5 c5' },
      '^',
      { hex: '1b 24 29 41 d0 a1 b6 ab' },
      '=',
    );
    expect(value).toBe('Zhang^XiaoDong=张^小东=');
  });
});

describe('characterSetDecoding: single-byte and Unicode sets', () => {
  it('reads each ISO 8859 part of PS3.3 Table C.12-2 from its high half', () => {
    expect(decode(['ISO_IR 100'], 'LO', 'M', { hex: 'fc' }, 'ller')).toBe('Müller');
    expect(decode(['ISO_IR 101'], 'LO', { hex: 'a9' }, 'koda')).toBe('Škoda');
    expect(decode(['ISO_IR 144'], 'PN', { hex: 'b8 d2 d0 dd de d2' }, '^', { hex: 'b8 d2 d0 dd' })).toBe('Иванов^Иван');
    expect(decode(['ISO_IR 126'], 'LO', { hex: 'c4 e9 ef ed f5 f3 e9 ef f2' })).toBe('Διονυσιος');
    expect(decode(['ISO_IR 138'], 'LO', { hex: 'f9 f8 e5 ef' })).toBe('שרון');
    expect(decode(['ISO_IR 127'], 'LO', { hex: 'e2 c8 c7 e6 ea' })).toBe('قباني');
    expect(decode(['ISO_IR 148'], 'LO', { hex: 'dd 73 74 61 6e 62 75 6c' })).toBe('İstanbul');
    expect(decode(['ISO_IR 203'], 'LO', '100 ', { hex: 'a4' })).toBe('100 €');
    expect(decode(['ISO_IR 166'], 'LO', { hex: 'ba d8 ca cb ba e9 d2 b9' })).toBe('บุสหบ้าน');
    expect(decode(['ISO_IR 13'], 'LO', { hex: 'd4 cf c0 de' })).toBe('ﾔﾏﾀﾞ');
  });

  it('reads ISO_IR 192 as UTF-8', () => {
    expect(decode(['ISO_IR 192'], 'PN', Buffer.from('Wang^XiaoDong=王^小東=').toString('latin1'))).toBe('Wang^XiaoDong=王^小東=');
  });

  it('reads the default repertoire, and a term it does not know, as ISO 8859-1 (one character per byte)', () => {
    expect(decode([], 'LO', 'Smith')).toBe('Smith');
    expect(decode(['ISO_IR 999'], 'LO', 'Gr', { hex: 'f6 df' }, 'e')).toBe('Größe');
  });

  it('lets an ESC stand as itself where the set has no code extensions', () => {
    expect(decode(['ISO_IR 100'], 'LO', { hex: '1b 24 42' }, 'A')).toBe('\x1b$BA');
  });
});

describe('characterSetDecoding: delimiters and code state (PS3.5 6.1.2.5.3)', () => {
  it('takes a byte 0x5C or 0x3D inside a two-byte G0 character as half of it, not as a delimiter', () => {
    // JIS X 0208 0x245C is ぼ, 0x243D is そ: their second bytes are "\" and "=" in ASCII.
    expect(decode(['', 'ISO 2022 IR 87'], 'LO', { hex: '1b 24 42 24 5c 1b 28 42' }, '\\A').split('\\')).toEqual(['ぼ', 'A']);
    expect(decode(['', 'ISO 2022 IR 87'], 'PN', 'X=', { hex: '1b 24 42 24 3d 1b 28 42' }, '=')).toBe('X=そ=');
  });

  it('returns to the sets of value 1 at a control character and at each delimiter', () => {
    // Cyrillic designated into G1, then a line break: the next high byte is value 1's ISO 8859-1 again.
    expect(decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'LT', { hex: '1b 2d 4c bb' }, '\r\n', { hex: 'e0' })).toBe('Л\r\nà');
    expect(decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'LO', { hex: '1b 2d 4c bb' }, '\\', { hex: 'e0' })).toBe('Л\\à');
    expect(decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'PN', { hex: '1b 2d 4c bb' }, '^', { hex: 'e0' })).toBe('Л^à');
    // In a single-valued text, "\" is a character and the set stays.
    expect(decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], 'ST', { hex: '1b 2d 4c bb' }, '\\', { hex: 'e0' })).toBe('Л\\р');
  });

  it('keeps a space between two-byte characters, and marks a lone half character', () => {
    expect(decode(['', 'ISO 2022 IR 87'], 'LO', { hex: '1b 24 42 3b 33 20 45 44 45 1b 28 42' })).toBe('山 田\ufffd');
  });

  it('reads JIS X 0212 (ISO 2022 IR 159) designated into G0', () => {
    // JIS X 0212 0x3021 in G0 is EUC-JP's 0x8F 0xB0 0xA1 (code set 3).
    const expected = new TextDecoder('euc-jp').decode(Uint8Array.of(0x8f, 0xb0, 0xa1));
    expect(decode(['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], 'PN', { hex: '1b 24 28 44 30 21 1b 28 42' })).toBe(expected);
    expect(expected).not.toContain('\ufffd');
  });
});

describe('isLatin1Compatible', () => {
  it('is true only where dcmjs already reads every byte right', () => {
    expect(isLatin1Compatible([])).toBe(true);
    expect(isLatin1Compatible([''])).toBe(true);
    expect(isLatin1Compatible(['ISO_IR 6'])).toBe(true);
    expect(isLatin1Compatible(['ISO_IR 100'])).toBe(true);
    expect(isLatin1Compatible(['ISO_IR 192'])).toBe(false);
    expect(isLatin1Compatible(['ISO_IR 144'])).toBe(false);
    expect(isLatin1Compatible(['', 'ISO 2022 IR 87'])).toBe(false);
  });
});

describe('latin1Bytes and redecodeCodeExtensions', () => {
  it('gives back the bytes the runtime’s ISO 8859-1 decoding (dcmjs’s default) came from', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...latin1Bytes(new TextDecoder('latin1').decode(bytes))]).toEqual([...bytes]);
  });

  it('decodes again a value read in value 1 with its escape sequences left in it', () => {
    expect(redecodeCodeExtensions('Yamada^Tarou=\x1b$B;3ED\x1b(B', 'PN')).toBe('Yamada^Tarou=山田');
    expect(redecodeCodeExtensions('Hong=\x1b$)C\u00fb\u00f3', 'PN')).toBe('Hong=洪');
  });

  it('gives back the bytes of half-width katakana a Shift_JIS reading of value 1 ISO 2022 IR 13 made (PS3.5 H.3.2)', () => {
    expect(redecodeCodeExtensions('ﾔﾏﾀﾞ^ﾀﾛｳ=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J', 'PN')).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎');
  });

  it('leaves alone a value without ESC, or with characters neither reading gives', () => {
    expect(redecodeCodeExtensions('Smith^John', 'PN')).toBeUndefined();
    expect(redecodeCodeExtensions('山\x1b$B;3\x1b(B', 'PN')).toBeUndefined();
  });
});

describe('characterSetDecoding on arbitrary input', () => {
  const terms = fc.array(
    fc.oneof(
      fc.constantFrom(
        '',
        'ISO_IR 6',
        'ISO_IR 100',
        'ISO_IR 144',
        'ISO_IR 13',
        'ISO_IR 192',
        'GB18030',
        'GBK',
        'ISO 2022 IR 6',
        'ISO 2022 IR 13',
        'ISO 2022 IR 87',
        'ISO 2022 IR 159',
        'ISO 2022 IR 149',
        'ISO 2022 IR 58',
        'ISO 2022 IR 126',
      ),
      fc.string({ maxLength: 16 }),
    ),
    { maxLength: 4 },
  );
  // Bytes rich in ESC and in the bytes of escape sequences, delimiters and two-byte sets.
  const byte = fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x1b, 0x24, 0x28, 0x29, 0x2d, 0x42, 0x43, 0x41, 0x44, 0x4a, 0x49, 0x5c, 0x5e, 0x3d, 0x0d, 0x0a),
  );
  const vr = fc.constantFrom('SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT');

  it('always gives a string, never throws, whatever the terms and bytes', () => {
    fc.assert(
      fc.property(terms, fc.array(byte, { maxLength: 200 }), vr, (t, bytes, v) => {
        expect(typeof characterSetDecoding(t).decode(Uint8Array.from(bytes), v)).toBe('string');
      }),
      { seed: 2022, numRuns: 2000 },
    );
  });

  it('reads ASCII without ESC as itself in every set whose G0 is ASCII', () => {
    fc.assert(
      fc.property(terms, fc.stringMatching(/^[\x20-\x7e]{0,60}$/), vr, (t, text, v) => {
        const decoding = characterSetDecoding(t);
        if (decoding.asciiIsAscii) expect(decoding.decode(Buffer.from(text, 'latin1'), v)).toBe(text);
      }),
      { seed: 2022, numRuns: 1000 },
    );
  });
});
