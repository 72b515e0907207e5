import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tag } from '../../../lambdas/dicom/tags';
import { nameIndexFold, NAME_TERM_MAX_LENGTH, personNameIndexTerms, NAME_INDEX_MAX_VALUES } from '../../../lambdas/dicom/person-name';
import { dateRangeOf, foldName, matchesAll, matchesElement, personNameIndexPrefix, rangeOf } from '../../../lambdas/dicomweb/matching';
import type { DicomJson } from '../../../lambdas/dicom/json';

const exact = { fuzzymatching: false };
const fuzzy = { fuzzymatching: true };

const dataset: DicomJson = {
  [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'Müller^Hans^Peter', Ideographic: '山田^太郎' }] },
  [Tag.PatientID]: { vr: 'LO', Value: ['PID-001 '] },
  [Tag.StudyDate]: { vr: 'DA', Value: ['20240315'] },
  [Tag.StudyTime]: { vr: 'TM', Value: ['101530.25'] },
  [Tag.StudyInstanceUID]: { vr: 'UI', Value: ['1.2.3.4'] },
  [Tag.ModalitiesInStudy]: { vr: 'CS', Value: ['CT', 'PT'] },
  [Tag.InstanceNumber]: { vr: 'IS', Value: [7] },
  [Tag.StudyDescription]: { vr: 'LO', Value: ['Chest CT'] },
  [Tag.RequestAttributesSequence]: {
    vr: 'SQ',
    Value: [
      { [Tag.ScheduledProcedureStepID]: { vr: 'SH', Value: ['SPS1'] }, [Tag.RequestedProcedureID]: { vr: 'SH', Value: ['RP1'] } },
      { [Tag.ScheduledProcedureStepID]: { vr: 'SH', Value: ['SPS2'] }, [Tag.RequestedProcedureID]: { vr: 'SH', Value: ['RP2'] } },
    ],
  },
};

const matches = (tag: string, value: string, options = exact) => matchesAll(dataset, [{ tag, value }], options);

describe('single value matching (PS3.4 C.2.2.2.1)', () => {
  it('is case-sensitive for strings, ignoring DICOM padding', () => {
    expect(matches(Tag.PatientID, 'PID-001')).toBe(true);
    expect(matches(Tag.PatientID, 'pid-001')).toBe(false);
    expect(matches(Tag.StudyDescription, 'Chest')).toBe(false);
  });
  it('is case-insensitive for PN (PS3.18 8.3.4.1) and matches any component group', () => {
    expect(matches(Tag.PatientName, 'müller^hans^peter')).toBe(true);
    expect(matches(Tag.PatientName, '山田^太郎')).toBe(true);
    expect(matches(Tag.PatientName, 'Müller^Hans')).toBe(false);
    expect(matches(Tag.PatientName, 'Müller^Hans^Peter=山田^太郎')).toBe(true);
    expect(matches(Tag.PatientName, 'Müller^Hans^Peter=山田^次郎')).toBe(false);
  });
  it('compares numbers numerically', () => {
    expect(matches(Tag.InstanceNumber, '7')).toBe(true);
    expect(matches(Tag.InstanceNumber, '07')).toBe(true);
    expect(matches(Tag.InstanceNumber, '8')).toBe(false);
  });
  it('does not match an absent attribute', () => {
    expect(matches(Tag.AccessionNumber, 'A1')).toBe(false);
  });
});

describe('universal matching (C.2.2.2.3)', () => {
  it('matches an empty key or a lone * even when the attribute is absent', () => {
    expect(matches(Tag.AccessionNumber, '')).toBe(true);
    expect(matches(Tag.AccessionNumber, '*')).toBe(true);
    expect(matches(Tag.PatientID, '')).toBe(true);
  });
});

describe('wildcard matching (C.2.2.2.4)', () => {
  it('supports * and ?', () => {
    expect(matches(Tag.StudyDescription, 'Chest*')).toBe(true);
    expect(matches(Tag.StudyDescription, '*CT')).toBe(true);
    expect(matches(Tag.StudyDescription, 'Ch?st CT')).toBe(true);
    expect(matches(Tag.StudyDescription, 'Ch?t*')).toBe(false);
    expect(matches(Tag.StudyDescription, 'chest*')).toBe(false);
  });
  it('treats regular expression characters literally', () => {
    const ds: DicomJson = { [Tag.StudyDescription]: { vr: 'LO', Value: ['a.b (x)'] } };
    expect(matchesAll(ds, [{ tag: Tag.StudyDescription, value: 'a.b (*)' }], exact)).toBe(true);
    expect(matchesAll(ds, [{ tag: Tag.StudyDescription, value: 'a?b (x' }], exact)).toBe(false);
    expect(matchesAll(ds, [{ tag: Tag.StudyDescription, value: 'axb*' }], exact)).toBe(false);
  });
  it('is case-insensitive on PN', () => {
    expect(matches(Tag.PatientName, 'MÜLLER*')).toBe(true);
    expect(matches(Tag.PatientName, 'mül?er^*')).toBe(true);
    expect(matches(Tag.PatientName, 'Schmidt*')).toBe(false);
  });
  it('does not apply to UIDs', () => {
    expect(matches(Tag.StudyInstanceUID, '1.2.*')).toBe(false);
  });
});

describe('UID list matching (C.2.2.2.2)', () => {
  it('matches any UID of a comma or backslash separated list', () => {
    expect(matches(Tag.StudyInstanceUID, '1.2.3.4')).toBe(true);
    expect(matches(Tag.StudyInstanceUID, '9.9,1.2.3.4')).toBe(true);
    expect(matches(Tag.StudyInstanceUID, '9.9\\1.2.3.4')).toBe(true);
    expect(matches(Tag.StudyInstanceUID, '9.9,1.2.3')).toBe(false);
  });
});

describe('range matching (C.2.2.2.5)', () => {
  it('matches DA single values and inclusive, open ranges', () => {
    expect(matches(Tag.StudyDate, '20240315')).toBe(true);
    expect(matches(Tag.StudyDate, '20240316')).toBe(false);
    expect(matches(Tag.StudyDate, '20240301-20240315')).toBe(true);
    expect(matches(Tag.StudyDate, '20240315-')).toBe(true);
    expect(matches(Tag.StudyDate, '20240316-')).toBe(false);
    expect(matches(Tag.StudyDate, '-20240315')).toBe(true);
    expect(matches(Tag.StudyDate, '-20240314')).toBe(false);
  });
  it('matches TM ranges at the precision given', () => {
    expect(matches(Tag.StudyTime, '1015-1016')).toBe(true);
    expect(matches(Tag.StudyTime, '10-')).toBe(true);
    expect(matches(Tag.StudyTime, '-1015')).toBe(true); // 10:15 covers up to 10:15:59.999999
    expect(matches(Tag.StudyTime, '-1014')).toBe(false);
    expect(matches(Tag.StudyTime, '101531-')).toBe(false);
    expect(matches(Tag.StudyTime, '10')).toBe(true);
    expect(matches(Tag.StudyTime, '11')).toBe(false);
  });
  it('matches DT ranges, ignoring UTC offsets', () => {
    const ds: DicomJson = { '0040A120': { vr: 'DT', Value: ['20240315101530+0100'] } };
    const m = (value: string) => matchesAll(ds, [{ tag: '0040A120', value }], exact);
    expect(m('20240315-20240316')).toBe(true);
    expect(m('2024031510-')).toBe(true);
    expect(m('202403151016-')).toBe(false);
    expect(m('-2024')).toBe(true);
    expect(m('2024')).toBe(true);
    expect(m('2023')).toBe(false);
  });
  it('combines a DA range and a TM range into one date-time range (C.2.2.2.5.1)', () => {
    const at = (date: string, time: string): DicomJson => ({
      [Tag.StudyDate]: { vr: 'DA', Value: [date] },
      [Tag.StudyTime]: { vr: 'TM', Value: [time] },
    });
    const keys = [
      { tag: Tag.StudyDate, value: '20060705-20060707' },
      { tag: Tag.StudyTime, value: '1000-1800' },
    ];
    expect(matchesAll(at('20060706', '0300'), keys, exact)).toBe(true); // whole middle day
    expect(matchesAll(at('20060705', '0900'), keys, exact)).toBe(false);
    expect(matchesAll(at('20060705', '1000'), keys, exact)).toBe(true);
    expect(matchesAll(at('20060707', '180059'), keys, exact)).toBe(true);
    expect(matchesAll(at('20060707', '1801'), keys, exact)).toBe(false);
  });
  it('parses ranges and rejects malformed values', () => {
    expect(rangeOf('DA', '20200101-')).toEqual({ from: '20200101', to: undefined, isRange: true });
    expect(rangeOf('DA', '2020-01-01')).toBeUndefined();
    expect(rangeOf('DA', '-')).toBeUndefined();
    expect(rangeOf('TM', '25:00')).toBeUndefined();
    expect(dateRangeOf('20200101')).toEqual({ from: '20200101', to: '20200101' });
    expect(dateRangeOf('-20200101')).toEqual({ from: undefined, to: '20200101' });
    expect(dateRangeOf('')).toBeUndefined();
  });
});

describe('multi-valued attributes', () => {
  it('match when any value matches', () => {
    expect(matches(Tag.ModalitiesInStudy, 'PT')).toBe(true);
    expect(matches(Tag.ModalitiesInStudy, 'CT')).toBe(true);
    expect(matches(Tag.ModalitiesInStudy, 'MR')).toBe(false);
  });
});

describe('sequence matching (C.2.2.2.6)', () => {
  const seq = `${Tag.RequestAttributesSequence}.`;
  it('matches when one item matches the nested key', () => {
    expect(matches(seq + Tag.ScheduledProcedureStepID, 'SPS2')).toBe(true);
    expect(matches(seq + Tag.ScheduledProcedureStepID, 'SPS3')).toBe(false);
  });
  it('requires all nested keys to match within the same item', () => {
    const keys = (rp: string) => [
      { tag: seq + Tag.ScheduledProcedureStepID, value: 'SPS1' },
      { tag: seq + Tag.RequestedProcedureID, value: rp },
    ];
    expect(matchesAll(dataset, keys('RP1'), exact)).toBe(true);
    expect(matchesAll(dataset, keys('RP2'), exact)).toBe(false);
  });
  it('treats universal nested keys as matching, even without the sequence', () => {
    expect(matchesAll({}, [{ tag: seq + Tag.RequestedProcedureID, value: '' }], exact)).toBe(true);
    expect(matchesAll({}, [{ tag: seq + Tag.RequestedProcedureID, value: 'RP1' }], exact)).toBe(false);
  });
});

describe('fuzzymatching=true on PN (PS3.18 8.3.4.1)', () => {
  it('ignores case and accents and matches any component by prefix', () => {
    expect(matches(Tag.PatientName, 'muller', fuzzy)).toBe(true);
    expect(matches(Tag.PatientName, 'MUL', fuzzy)).toBe(true);
    expect(matches(Tag.PatientName, 'han', fuzzy)).toBe(true);
    expect(matches(Tag.PatientName, 'pet', fuzzy)).toBe(true);
    expect(matches(Tag.PatientName, '山田', fuzzy)).toBe(true);
    expect(matches(Tag.PatientName, 'uller', fuzzy)).toBe(false);
    expect(matches(Tag.PatientName, 'schmidt', fuzzy)).toBe(false);
  });
  it('matches the components of a key with ^ in place', () => {
    expect(matches(Tag.PatientName, 'mull^ha', fuzzy)).toBe(true);
    expect(matches(Tag.PatientName, 'ha^mull', fuzzy)).toBe(false);
    expect(matches(Tag.PatientName, '^hans', fuzzy)).toBe(true);
  });
  it('matches words within a component', () => {
    const ds: DicomJson = { [Tag.PatientName]: { vr: 'PN', Value: [{ Alphabetic: 'van der Berg^Anna' }] } };
    expect(matchesAll(ds, [{ tag: Tag.PatientName, value: 'berg' }], fuzzy)).toBe(true);
    expect(matchesAll(ds, [{ tag: Tag.PatientName, value: 'berg' }], exact)).toBe(false);
  });
  it('leaves non-PN keys unaffected', () => {
    expect(matches(Tag.PatientID, 'pid', fuzzy)).toBe(false);
    expect(matches(Tag.StudyDescription, 'chest ct', fuzzy)).toBe(false);
    expect(matches(Tag.StudyDescription, 'Chest CT', fuzzy)).toBe(true);
  });
  it('folds case and accents', () => {
    expect(foldName('Ærø Müller-Lüdenscheidt')).toBe('ærø muller-ludenscheidt');
  });
});

describe('matchesElement', () => {
  it('never matches a sequence by a plain value', () => {
    expect(matchesElement(dataset[Tag.RequestAttributesSequence], 'SPS1', exact)).toBe(false);
  });
});

describe("Patient's Name index terms and prefixes", () => {
  const pn = (...values: unknown[]) => ({ vr: 'PN', Value: values });

  it('folds case, accents and case-folding variants alike, code point by code point', () => {
    expect(nameIndexFold('Müller^ŁUKASZ')).toBe('muller^łukasz');
    expect(nameIndexFold('ſmith')).toBe(nameIndexFold('SMITH'));
    expect(nameIndexFold('Strauẞ')).toBe(nameIndexFold('strauß'));
    expect(nameIndexFold('ΟΔΥΣΣΕΥΣ')).toBe(nameIndexFold('οδυσσευς'));
    expect(nameIndexFold('e\u0301')).toBe('e');
  });

  it('gives one term per word of every component group and value', () => {
    expect(personNameIndexTerms(pn({ Alphabetic: 'van der Berg^Anna Maria', Ideographic: '山田^太郎' }, 'Doe^John')).sort()).toEqual(
      ['anna', 'berg', 'der', 'doe', 'john', 'maria', 'van', '山田', '太郎'].sort(),
    );
    expect(personNameIndexTerms(pn({ Alphabetic: '  Müller^^Hans^^ ' }))).toEqual(['muller', 'hans']);
    expect(personNameIndexTerms(pn(null, 7, {}))).toEqual([]);
    expect(personNameIndexTerms({ vr: 'LO', Value: ['Smith'] })).toEqual([]);
    expect(personNameIndexTerms(undefined)).toEqual([]);
  });

  it('takes the terms of an invalid name from its first values and the first 64 characters of each group', () => {
    const words = Array.from({ length: 4000 }, (_, i) => `w${i}`).join(' ');
    const terms = personNameIndexTerms(
      pn(...Array.from({ length: 100 }, (_, i) => ({ Alphabetic: `v${i} ${words}`, Ideographic: words }))),
    );
    expect(terms.length).toBeLessThanOrEqual(NAME_INDEX_MAX_VALUES * 2 * 32);
    expect(terms).toContain('v0');
    expect(terms).toContain(`v${NAME_INDEX_MAX_VALUES - 1}`);
    expect(terms).not.toContain(`v${NAME_INDEX_MAX_VALUES}`);
    expect(terms).not.toContain('w100');
  });

  it('cuts terms and prefixes to the length of a component group', () => {
    const long = 'a'.repeat(NAME_TERM_MAX_LENGTH + 10);
    expect(personNameIndexTerms(pn(long))).toEqual(['a'.repeat(NAME_TERM_MAX_LENGTH)]);
    expect(personNameIndexPrefix(long, false)).toBe('a'.repeat(NAME_TERM_MAX_LENGTH));
  });

  it('narrows a key to the folded first word of its literal start', () => {
    expect(personNameIndexPrefix('Smi*', false)).toBe('smi');
    expect(personNameIndexPrefix('SMITH^JOHN', false)).toBe('smith');
    expect(personNameIndexPrefix('smith', true)).toBe('smith');
    expect(personNameIndexPrefix('Mül?er', true)).toBe('mul');
    expect(personNameIndexPrefix('^John', false)).toBe('john');
    expect(personNameIndexPrefix('*=山田*', false)).toBe('山田');
    expect(personNameIndexPrefix('ΝΙΚΟΣ*', false)).toBe('ν');
  });

  it('has no prefix for a universal key, a leading wildcard or separators alone', () => {
    for (const key of ['', '*', '*ith', '?mith', '^', '^*', '=', '*=*']) {
      expect(personNameIndexPrefix(key, false), key).toBeUndefined();
      expect(personNameIndexPrefix(key, true), key).toBeUndefined();
    }
  });

  it('folds every pair of code points a case-insensitive key matches alike, save the declared ones', () => {
    // What the wildcard's /iu regular expression compares: simple case folding, among the characters
    // that have a case mapping or folding (the others only match themselves).
    const cased: string[] = [];
    const disagree: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      const f = nameIndexFold(c);
      // Exact keys compare lower case, fuzzy ones foldName: the index fold must agree with both, and
      // make no word separator of another character.
      if (nameIndexFold(c.toLowerCase()) !== f || nameIndexFold(foldName(c)) !== f) disagree.push(c);
      if (!/[\^\s]/u.test(c) && /[\^\s]/u.test(f + foldName(c))) disagree.push(c);
      if (/[\p{CWCF}\p{CWCM}]/u.test(c)) cased.push(c);
    }
    expect(disagree).toEqual([]);
    const apart = new Set<number>();
    for (const c of cased) {
      const same = new RegExp(`^${c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'iu');
      for (const d of cased) if (d !== c && same.test(d) && nameIndexFold(d) !== nameIndexFold(c)) apart.add(c.codePointAt(0)!);
    }
    expect([...apart].sort((a, b) => a - b)).toEqual([0x345, 0x399, 0x3b9, 0x1fbe, 0xfb05, 0xfb06]);
    for (const cp of apart) expect(personNameIndexPrefix(`ab${String.fromCodePoint(cp)}c*`, false)).toBe('ab');
  });

  it('never leaves out a name its key matches: some term starts with the prefix', () => {
    const letter = fc.constantFrom(...'aAbSsſmMiIıİtThHüÜuUeé\u0301ßẞσςΣ山田 ^-'.split(''));
    const name = fc.array(letter, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));
    const variant = (s: string, how: number) =>
      how === 0 ? s : how === 1 ? s.toUpperCase() : how === 2 ? s.toLowerCase() : foldName(s).normalize('NFC');
    fc.assert(
      fc.property(name, fc.nat(12), fc.nat(3), fc.constantFrom('', '*', '?*', '^*'), fc.boolean(), (stored, cutAt, how, tail, fuzzy) => {
        const element = pn({ Alphabetic: stored });
        const key = variant(stored.slice(0, cutAt), how) + tail;
        if (!matchesElement(element, key, { fuzzymatching: fuzzy })) return;
        const prefix = personNameIndexPrefix(key, fuzzy);
        if (prefix === undefined) return;
        expect(
          personNameIndexTerms(element).some((t) => t.startsWith(prefix)),
          `${stored} ~ ${key}`,
        ).toBe(true);
      }),
      { seed: 42, numRuns: 20_000 },
    );
  });
});
