/**
 * Data element tags (PS3.6) by keyword, and keyword/tag/VR lookups from dcmjs's data dictionary.
 * Tags are written as 8 upper-case hex digits 'GGGGEEEE', as in the DICOM JSON Model (PS3.18 F.2.1).
 */
import dcmjs from 'dcmjs';

const { DicomMetaDictionary } = dcmjs.data;

/** Keyword -> tag of every attribute the archive names in code (test/unit/dicom/tags checks them against PS3.6). */
export const Tag = {
  SpecificCharacterSet: '00080005',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  SeriesDate: '00080021',
  StudyTime: '00080030',
  SeriesTime: '00080031',
  AccessionNumber: '00080050',
  InstanceAvailability: '00080056',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  TimezoneOffsetFromUTC: '00080201',
  RetrieveAETitle: '00080054',
  ReferringPhysicianName: '00080090',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  InstitutionName: '00080080',
  Manufacturer: '00080070',
  RetrieveURL: '00081190',
  FailureReason: '00081197',
  WarningReason: '00081196',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  OriginalAttributesSequence: '04000561',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  PerformedProcedureStepStartDate: '00400244',
  PerformedProcedureStepStartTime: '00400245',
  RequestAttributesSequence: '00400275',
  ScheduledProcedureStepID: '00400009',
  RequestedProcedureID: '00401001',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  PlanarConfiguration: '00280006',
  PixelData: '7FE00010',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
  ExtendedOffsetTable: '7FE00001',
  ExtendedOffsetTableLengths: '7FE00002',
  FileMetaInformationGroupLength: '00020000',
  FileMetaInformationVersion: '00020001',
  MediaStorageSOPClassUID: '00020002',
  MediaStorageSOPInstanceUID: '00020003',
  TransferSyntaxUID: '00020010',
  ImplementationClassUID: '00020012',
  ImplementationVersionName: '00020013',
  SourceApplicationEntityTitle: '00020016',
  QueryRetrieveLevel: '00080052',
  RetrieveURI: '0040E010',
  Item: 'FFFEE000',
  ItemDelimitationItem: 'FFFEE00D',
  SequenceDelimitationItem: 'FFFEE0DD',
} as const;

export type TagKeyword = keyof typeof Tag;

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
function entryOf(tag: string) {
  const group = tag.slice(0, 4);
  const element = tag.slice(4);
  return (
    DicomMetaDictionary.dictionary[`(${group},${element})`] ??
    DicomMetaDictionary.dictionary[`(${group.slice(0, 2)}xx,${element})`]
  );
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
  const name = normal === undefined ? undefined : entryOf(normal)?.name;
  return name?.replace(/^RETIRED_/, '');
}

/** Every VR PS3.6 allows for a tag ('US or SS' -> ['US', 'SS']); empty when unknown. */
export function vrsOf(tag: string): readonly string[] {
  const normal = normaliseTag(tag);
  const vr = normal === undefined ? undefined : entryOf(normal)?.vr;
  if (vr === undefined || vr === 'na') return [];
  return DICTIONARY_VRS[vr] ?? [vr];
}

/** The VR of a tag in the data dictionary (the first one of 'US or SS' and the like); undefined when unknown. */
export function vrOf(tag: string): string | undefined {
  return vrsOf(tag)[0];
}
