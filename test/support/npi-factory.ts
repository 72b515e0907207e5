/**
 * Real Non-Patient Instances (PS3.18 12) for tests, one per category, built with the codec layer
 * (dcmjs underneath) with their real Storage SOP Class UIDs (PS3.4 Table GG.3-1). They carry no
 * Patient, Study or Series module: only the SOP Common module and the category's own attributes.
 */
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { newUid } from '../../lambdas/dicom/uid';
import type { NpiName } from '../../lambdas/dicomweb/npi-categories';
import { dataSet } from './dicom-factory';

export interface NpiSample {
  readonly npiName: NpiName;
  readonly sopClassUID: string;
  /** Attributes by keyword; a sequence as an array of such objects. */
  readonly attributes: Record<string, unknown>;
  /** A search of the category (keyword=value) that matches this sample and not the other sample of the category. */
  readonly search: Readonly<Record<string, string>>;
}

/** One sample per category, with values that a search by the category's keys can tell apart. */
export function npiSamples(tag: string): NpiSample[] {
  return [
    {
      npiName: 'color-palettes',
      sopClassUID: '1.2.840.10008.5.1.4.39.1',
      attributes: { ContentLabel: `HOT_IRON_${tag}`, ContentDescription: 'Hot iron palette', InstanceCreationDate: '20240301' },
      search: { ContentLabel: `HOT_IRON_${tag}` },
    },
    {
      npiName: 'defined-procedure-protocols',
      sopClassUID: '1.2.840.10008.5.1.4.1.1.200.1',
      attributes: {
        ProtocolName: `Head routine ${tag}`,
        Manufacturer: 'ACME',
        Modality: 'CT',
        PotentialScheduledProtocolCodeSequence: [{ CodeValue: `P-${tag}`, CodingSchemeDesignator: '99TEST', CodeMeaning: 'Head' }],
      },
      search: { ProtocolName: `Head routine ${tag}*`, 'PotentialScheduledProtocolCodeSequence.CodeValue': `P-${tag}` },
    },
    {
      npiName: 'hanging-protocols',
      sopClassUID: '1.2.840.10008.5.1.4.38.1',
      attributes: {
        HangingProtocolName: `CHEST_${tag}`,
        HangingProtocolDescription: 'Chest PA and lateral',
        HangingProtocolLevel: 'SITE',
        HangingProtocolCreator: 'Reading room',
        HangingProtocolCreationDateTime: '20240301120000',
        HangingProtocolDefinitionSequence: [{ Modality: 'CR', Laterality: '' }],
        NumberOfPriorsReferenced: 0,
        NumberOfScreens: 2,
      },
      search: { HangingProtocolName: `CHEST_${tag}`, 'HangingProtocolDefinitionSequence.Modality': 'CR', NumberOfScreens: '2' },
    },
    {
      npiName: 'implant-templates',
      sopClassUID: '1.2.840.10008.5.1.4.43.1',
      attributes: {
        Manufacturer: 'ACME Ortho',
        ImplantName: `Hip stem ${tag}`,
        ImplantPartNumber: `HS-${tag}`,
        EffectiveDateTime: '20240101000000',
      },
      search: { ImplantPartNumber: `HS-${tag}`, Manufacturer: 'ACME*' },
    },
    {
      npiName: 'inventories',
      sopClassUID: '1.2.840.10008.5.1.4.1.1.201.1',
      attributes: {
        InventoryLevel: 'STUDY',
        InventoryCompletionStatus: 'COMPLETE',
        InventoryPurpose: `Audit ${tag}`,
        ContentDate: '20240301',
        ContentTime: '120000',
      },
      search: { InventoryPurpose: `Audit ${tag}`, ContentDate: '20240101-20241231' },
    },
    {
      npiName: 'protocol-approvals',
      sopClassUID: '1.2.840.10008.5.1.4.1.1.200.3',
      attributes: {
        InstanceCreationDate: '20240301',
        ApprovalSubjectSequence: [{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.200.1', ReferencedSOPInstanceUID: `2.25.${tag}` }],
      },
      search: { 'ApprovalSubjectSequence.ReferencedSOPInstanceUID': `2.25.${tag}` },
    },
  ];
}

/** The Part 10 file of a Non-Patient Instance of the sample's category (or of another SOP Class). */
export function makeNpiInstance(
  sample: NpiSample,
  opts: { sopInstanceUID?: string; sopClassUID?: string } = {},
): {
  sopInstanceUID: string;
  bytes: Uint8Array;
} {
  const sopInstanceUID = opts.sopInstanceUID ?? newUid();
  const bytes = newPart10(
    dataSet({
      SpecificCharacterSet: 'ISO_IR 192',
      SOPClassUID: opts.sopClassUID ?? sample.sopClassUID,
      SOPInstanceUID: sopInstanceUID,
      InstanceCreationDate: '20240301',
      ...sample.attributes,
    }),
  );
  return { sopInstanceUID, bytes };
}
