/**
 * Unique identifiers (PS3.5 9), the Transfer Syntax UIDs the archive knows (PS3.5 10, PS3.6 A)
 * and the Storage SOP Classes it names (PS3.4 B.5).
 */
import { randomBytes } from 'node:crypto';

/** PS3.5 9.1: at most 64 characters. */
const MAX_UID_LENGTH = 64;
/** PS3.5 9.1: components of digits, no leading zero unless the component is '0' itself. */
const UID_SYNTAX = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** PS3.5 9.1: 1..64 characters, '.'-separated numeric components, no empty component, no leading zero. */
export function isValidUid(value: string): boolean {
  return value.length > 0 && value.length <= MAX_UID_LENGTH && UID_SYNTAX.test(value);
}

/** PS3.5 B.2: a UID derived from a UUID, '2.25.' followed by the UUID's 128 bits as a decimal integer. */
export function newUid(): string {
  const bytes = randomBytes(16);
  // RFC 4122 version 4 UUID bits, so the value is a real UUID as B.2 asks.
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

/** Transfer Syntax UIDs (PS3.6 Table A-1), keyed by their PS3.6 keyword. */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  MPEG2MPML: '1.2.840.10008.1.2.4.100',
  MPEG4HP41: '1.2.840.10008.1.2.4.102',
  HEVCMP51: '1.2.840.10008.1.2.4.107',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/** PS3.5 A.1-A.5: the transfer syntaxes whose Pixel Data is native (not encapsulated). */
const UNCOMPRESSED: ReadonlySet<string> = new Set([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
]);

/** True for Implicit VR LE, Explicit VR LE/BE and Deflated Explicit VR LE (native Pixel Data, PS3.5 A.4 does not apply). */
export function isUncompressedTransferSyntax(uid: string): boolean {
  return UNCOMPRESSED.has(uid);
}

/** SOP Class UIDs (PS3.6 Table A-1), keyed by their PS3.6 keyword. */
export const SopClass = {
  ComputedRadiographyImageStorage: '1.2.840.10008.5.1.4.1.1.1',
  DigitalXRayImageStorageForPresentation: '1.2.840.10008.5.1.4.1.1.1.1',
  DigitalMammographyXRayImageStorageForPresentation: '1.2.840.10008.5.1.4.1.1.1.2',
  CTImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCTImageStorage: '1.2.840.10008.5.1.4.1.1.2.1',
  UltrasoundMultiFrameImageStorage: '1.2.840.10008.5.1.4.1.1.3.1',
  MRImageStorage: '1.2.840.10008.5.1.4.1.1.4',
  EnhancedMRImageStorage: '1.2.840.10008.5.1.4.1.1.4.1',
  UltrasoundImageStorage: '1.2.840.10008.5.1.4.1.1.6.1',
  SecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
  MultiFrameGrayscaleByteSecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7.2',
  MultiFrameGrayscaleWordSecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7.3',
  MultiFrameTrueColorSecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7.4',
  XRayAngiographicImageStorage: '1.2.840.10008.5.1.4.1.1.12.1',
  NuclearMedicineImageStorage: '1.2.840.10008.5.1.4.1.1.20',
  VLWholeSlideMicroscopyImageStorage: '1.2.840.10008.5.1.4.1.1.77.1.6',
  GrayscaleSoftcopyPresentationStateStorage: '1.2.840.10008.5.1.4.1.1.11.1',
  BasicTextSRStorage: '1.2.840.10008.5.1.4.1.1.88.11',
  EnhancedSRStorage: '1.2.840.10008.5.1.4.1.1.88.22',
  ComprehensiveSRStorage: '1.2.840.10008.5.1.4.1.1.88.33',
  KeyObjectSelectionDocumentStorage: '1.2.840.10008.5.1.4.1.1.88.59',
  EncapsulatedPDFStorage: '1.2.840.10008.5.1.4.1.1.104.1',
  SegmentationStorage: '1.2.840.10008.5.1.4.1.1.66.4',
  RTStructureSetStorage: '1.2.840.10008.5.1.4.1.1.481.3',
  PositronEmissionTomographyImageStorage: '1.2.840.10008.5.1.4.1.1.128',
  // Non-Patient Objects (PS3.4 GG, U): no patient, study or series of their own.
  HangingProtocolStorage: '1.2.840.10008.5.1.4.38.1',
  ColorPaletteStorage: '1.2.840.10008.5.1.4.39.1',
} as const;
