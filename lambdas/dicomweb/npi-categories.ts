/**
 * The resource categories of the Non-Patient Instance (NPI) Service, PS3.18 12.1.1 (Table 12.1.1-1):
 * path name, the Storage SOP Classes of each category (PS3.4 Table GG.3-1), and the matching keys of
 * each category's Query/Retrieve Information Model that Search and Send accept (Sup 248 Table
 * 12.X.1-2). Pure data and lookups, without the data dictionary (so the route table, which every
 * function loads, does not load it): the keys as tags are in ./npi-keys.ts.
 */

export type NpiName =
  'color-palettes' | 'defined-procedure-protocols' | 'hanging-protocols' | 'implant-templates' | 'inventories' | 'protocol-approvals';

export interface NpiCategory {
  /** The {npi-name} path segment. */
  readonly name: NpiName;
  /** Resource Category of PS3.18 Table 12.1.1-1. */
  readonly resourceCategory: string;
  /** Storage SOP Classes of the category (PS3.4 Table GG.3-1); any other is refused with 0x0122. */
  readonly sopClassUIDs: readonly string[];
  /** Section of PS3.4 naming the category's Q/R matching keys (Sup 248 Table 12.X.1-2). */
  readonly keysSection: string;
  /**
   * Matching keys as keyword paths ('Sequence.Attribute' for sequence matching, PS3.4 C.2.2.2.6),
   * beyond SOP Class UID and SOP Instance UID, which every category matches (UID list matching).
   */
  readonly matchingKeys: readonly string[];
}

/** Keys every category matches: the unique key of the Q/R model and the SOP Class (e.g. PS3.4 Table U.6-1). */
export const COMMON_KEYS = ['SOPClassUID', 'SOPInstanceUID'] as const;

export const NPI_CATEGORIES: readonly NpiCategory[] = [
  {
    name: 'color-palettes',
    resourceCategory: 'Color Palette',
    sopClassUIDs: ['1.2.840.10008.5.1.4.39.1'], // Color Palette Storage
    keysSection: 'PS3.4 X.6.1.2',
    matchingKeys: ['ContentLabel', 'ContentDescription', 'ContentCreatorName', 'InstanceCreationDate'],
  },
  {
    name: 'defined-procedure-protocols',
    resourceCategory: 'Defined Procedure Protocol',
    sopClassUIDs: [
      '1.2.840.10008.5.1.4.1.1.200.1', // CT Defined Procedure Protocol Storage
      '1.2.840.10008.5.1.4.1.1.200.7', // XA Defined Procedure Protocol Storage
    ],
    keysSection: 'PS3.4 HH.6.1.2',
    matchingKeys: [
      'ProtocolName',
      'Manufacturer',
      'ManufacturerModelName',
      'Modality',
      'ContentCreatorName',
      'InstanceCreationDate',
      'PotentialScheduledProtocolCodeSequence.CodeValue',
      'PotentialRequestedProcedureCodeSequence.CodeValue',
    ],
  },
  {
    name: 'hanging-protocols',
    resourceCategory: 'Hanging Protocol',
    sopClassUIDs: ['1.2.840.10008.5.1.4.38.1'], // Hanging Protocol Storage
    keysSection: 'PS3.4 U.6.1.2',
    matchingKeys: [
      'HangingProtocolName',
      'HangingProtocolDescription',
      'HangingProtocolLevel',
      'HangingProtocolCreator',
      'HangingProtocolCreationDateTime',
      'NumberOfPriorsReferenced',
      'NumberOfScreens',
      'HangingProtocolDefinitionSequence.Modality',
      'HangingProtocolDefinitionSequence.Laterality',
    ],
  },
  {
    name: 'implant-templates',
    resourceCategory: 'Implant Template',
    sopClassUIDs: [
      '1.2.840.10008.5.1.4.43.1', // Generic Implant Template Storage
      '1.2.840.10008.5.1.4.44.1', // Implant Assembly Template Storage
      '1.2.840.10008.5.1.4.45.1', // Implant Template Group Storage
    ],
    keysSection: 'PS3.4 BB.6.1.2',
    matchingKeys: [
      'Manufacturer',
      'ImplantName',
      'ImplantPartNumber',
      'ImplantSize',
      'ImplantTemplateVersion',
      'ImplantType',
      'EffectiveDateTime',
      'ImplantAssemblyTemplateName',
      'ImplantAssemblyTemplateIssuer',
      'ImplantAssemblyTemplateVersion',
      'ImplantAssemblyTemplateType',
      'ImplantTemplateGroupName',
      'ImplantTemplateGroupIssuer',
      'ImplantTemplateGroupVersion',
    ],
  },
  {
    name: 'inventories',
    resourceCategory: 'Inventory',
    sopClassUIDs: ['1.2.840.10008.5.1.4.1.1.201.1'], // Inventory Storage
    keysSection: 'PS3.4 JJ.2.2',
    matchingKeys: ['InventoryLevel', 'InventoryCompletionStatus', 'InventoryPurpose', 'ContentDate', 'ContentTime'],
  },
  {
    name: 'protocol-approvals',
    resourceCategory: 'Protocol Approval',
    sopClassUIDs: ['1.2.840.10008.5.1.4.1.1.200.3'], // Protocol Approval Storage
    keysSection: 'PS3.4 II.6.1.2',
    matchingKeys: [
      'InstanceCreationDate',
      'ApprovalSubjectSequence.ReferencedSOPClassUID',
      'ApprovalSubjectSequence.ReferencedSOPInstanceUID',
      'ApprovalSequence.AssertionDateTime',
      'ApprovalSequence.AssertionExpirationDateTime',
    ],
  },
];

const BY_NAME: ReadonlyMap<string, NpiCategory> = new Map(NPI_CATEGORIES.map((c) => [c.name, c]));

/** The category of an {npi-name} path segment, or undefined. */
export function npiCategory(name: string | undefined): NpiCategory | undefined {
  return name === undefined ? undefined : BY_NAME.get(name);
}

/** The category of an {npi-name} the route table guarantees; a programming error otherwise. */
export function requireNpiCategory(name: string): NpiCategory {
  const category = npiCategory(name);
  if (!category) throw new TypeError(`${name} is not an NPI category`);
  return category;
}

/** True when the SOP Class belongs to the category (PS3.4 Table GG.3-1). */
export function isSopClassOf(category: NpiCategory, sopClassUID: string): boolean {
  return category.sopClassUIDs.includes(sopClassUID);
}
