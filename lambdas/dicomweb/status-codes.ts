/**
 * DICOM status codes used in response modules, from PS3.2 J.4.2 (STOW-RS Store Instances) and PS3.4.
 * Kept as numbers; DICOM JSON carries them as US values.
 */

/** Warning Reason (0008,1196), PS3.2 J.4.2 / PS3.18 10.5.3. */
export const WarningReason = {
  /** The service modified one or more data elements during storage. */
  CoercionOfDataElements: 0xb000,
  /** The service discarded some data elements during storage. */
  ElementsDiscarded: 0xb006,
  /** Stored although the Data Set does not match the constraints of the SOP Class. */
  DataSetDoesNotMatchSOPClass: 0xb007,
} as const;

/** Failure Reason (0008,1197), PS3.2 J.4.2 / PS3.18 10.5.3. */
export const FailureReason = {
  /** A general failure in processing the operation. */
  ProcessingFailure: 0x0110,
  /** The service does not support the SOP Class. */
  ReferencedSOPClassNotSupported: 0x0122,
  /** Refused, out of resources: out of memory. */
  OutOfMemory: 0xa700,
  /** Refused, out of resources: out of storage space. */
  OutOfStorage: 0xa710,
  /**
   * Error, Data Set does not match SOP Class: the SOP Class (or study/series) of the instance does not
   * correspond to what is registered for this SOP Instance at the service.
   */
  DataSetDoesNotMatchSOPClass: 0xa900,
  /** Error, cannot understand certain Data Elements. */
  CannotUnderstand: 0xc000,
  /** The service does not support the Transfer Syntax of the instance. */
  ReferencedTransferSyntaxNotSupported: 0xc122,
} as const;
