import { describe, expect, it } from 'vitest';
import { isSopClassOf, NPI_CATEGORIES, npiCategory, requireNpiCategory } from '../../../lambdas/dicomweb/npi-categories';

describe('NPI categories (PS3.18 Table 12.1.1-1)', () => {
  it('are the six npi-names of the NPI Service', () => {
    expect(NPI_CATEGORIES.map((c) => c.name).sort()).toEqual([
      'color-palettes',
      'defined-procedure-protocols',
      'hanging-protocols',
      'implant-templates',
      'inventories',
      'protocol-approvals',
    ]);
  });

  it('give each Storage SOP Class to one category only (PS3.4 Table GG.3-1)', () => {
    const all = NPI_CATEGORIES.flatMap((c) => c.sopClassUIDs);
    expect(new Set(all).size).toBe(all.length);
    expect(isSopClassOf(requireNpiCategory('hanging-protocols'), '1.2.840.10008.5.1.4.38.1')).toBe(true);
    expect(isSopClassOf(requireNpiCategory('color-palettes'), '1.2.840.10008.5.1.4.38.1')).toBe(false);
    expect(requireNpiCategory('implant-templates').sopClassUIDs).toEqual([
      '1.2.840.10008.5.1.4.43.1',
      '1.2.840.10008.5.1.4.44.1',
      '1.2.840.10008.5.1.4.45.1',
    ]);
  });

  it('look up only known names', () => {
    expect(npiCategory('inventories')?.resourceCategory).toBe('Inventory');
    expect(npiCategory('studies')).toBeUndefined();
    expect(npiCategory(undefined)).toBeUndefined();
    expect(() => requireNpiCategory('studies')).toThrow(TypeError);
  });
});
