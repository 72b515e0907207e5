/**
 * Data element tags (PS3.6) the archive names in code, by keyword. Tags are written as 8 upper-case
 * hex digits 'GGGGEEEE', as in the DICOM JSON Model (PS3.18 F.2.1). Lookups of any other attribute
 * need the whole data dictionary: ./dictionary.ts. This module loads no DICOM library, so the
 * functions that only name tags (delete, capabilities) do not pay for one.
 */

/** Keyword -> tag of every attribute the archive names in code (test/unit/dicom/tags checks them against PS3.6). */
export const Tag = {
  SpecificCharacterSet: '00080005',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  SeriesDate: '00080021',
  StudyTime: '00080030',
  SeriesTime: '00080031',
  ContentDate: '00080023',
  ContentTime: '00080033',
  AccessionNumber: '00080050',
  FailedSOPInstanceUIDList: '00080058',
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
  IssuerOfPatientID: '00100021',
  PatientBirthDate: '00100030',
  PatientSex: '00100040',
  BodyPartExamined: '00180015',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  Laterality: '00200060',
  NumberOfPatientRelatedStudies: '00201200',
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
  FrameTime: '00181063',
  RecommendedDisplayFrameRate: '00082144',
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
  // Command elements (PS3.7 E.1) of the C-MOVE response, which the Send response module reuses.
  Status: '00000900',
  NumberOfRemainingSuboperations: '00001020',
  NumberOfCompletedSuboperations: '00001021',
  NumberOfFailedSuboperations: '00001022',
  NumberOfWarningSuboperations: '00001023',
  Item: 'FFFEE000',
  ItemDelimitationItem: 'FFFEE00D',
  SequenceDelimitationItem: 'FFFEE0DD',
  // The pixel pipeline's LUTs and functional groups (PS3.3 C.11, C.7.6.16), for lambdas/dicom/render.
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  VOILUTFunction: '00281056',
  RedPaletteColorLookupTableDescriptor: '00281101',
  GreenPaletteColorLookupTableDescriptor: '00281102',
  BluePaletteColorLookupTableDescriptor: '00281103',
  RedPaletteColorLookupTableData: '00281201',
  GreenPaletteColorLookupTableData: '00281202',
  BluePaletteColorLookupTableData: '00281203',
  SegmentedRedPaletteColorLookupTableData: '00281221',
  SegmentedGreenPaletteColorLookupTableData: '00281222',
  SegmentedBluePaletteColorLookupTableData: '00281223',
  ModalityLUTSequence: '00283000',
  LUTDescriptor: '00283002',
  LUTData: '00283006',
  VOILUTSequence: '00283010',
  FrameVOILUTSequence: '00289132',
  PixelValueTransformationSequence: '00289145',
  PresentationLUTShape: '20500020',
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
} as const;

export type TagKeyword = keyof typeof Tag;

/** Pixel Data, Float Pixel Data, Double Float Pixel Data (PS3.3 C.7.6.3): the values that hold frames, binary in any encoding. */
export const PIXEL_DATA_TAGS: readonly string[] = [Tag.PixelData, Tag.FloatPixelData, Tag.DoubleFloatPixelData];

/** A tag number (group << 16 | element) as the DICOM JSON Model writes it: 8 upper-case hex digits (PS3.18 F.2.1). */
export function tagString(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** A tag as the DICOM JSON Model writes it ('GGGGEEEE') -> its number (group << 16 | element), as PS3.5 7.1 encodes it. */
export function tagNumber(tag: string): number {
  return Number.parseInt(tag, 16);
}
