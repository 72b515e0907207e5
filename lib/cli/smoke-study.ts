/**
 * The synthetic study the deploy smoke test stores: a few small Secondary Capture images with fresh
 * UIDs (PS3.5 B.2) and a patient that is clearly fake ("SMOKE^TEST"), so no real data ever travels.
 */
import { dataSet } from '../../lambdas/dicom/data-set';
import { newPart10 } from '../../lambdas/dicom/part10-write';
import { Tag } from '../../lambdas/dicom/tags';
import { SopClass, newUid } from '../../lambdas/dicom/uid';

export const SMOKE_PATIENT_NAME = 'SMOKE^TEST';

export interface SmokeInstance {
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
  /** The Part 10 file as stored (and expected back with transfer-syntax=*). */
  readonly bytes: Uint8Array;
  /** The native pixel bytes of its single frame (expected from RetrieveFrames). */
  readonly frame: Uint8Array;
}

export interface SmokeStudy {
  readonly studyInstanceUID: string;
  /** Unique per run, so that a search by PatientID finds this study alone. */
  readonly patientID: string;
  readonly instances: readonly SmokeInstance[];
}

const ROWS = 8;
const COLUMNS = 8;

/** A study of `series` x `instancesPerSeries` 8x8 16-bit images; pixel bytes differ per instance. */
export function makeSmokeStudy(opts: { series?: number; instancesPerSeries?: number; now?: Date } = {}): SmokeStudy {
  const { series = 2, instancesPerSeries = 2, now = new Date() } = opts;
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const patientID = `SMOKE-${stamp}-${newUid().slice(-6)}`;
  const studyInstanceUID = newUid();
  const instances: SmokeInstance[] = [];
  for (let s = 1; s <= series; s++) {
    const seriesInstanceUID = newUid();
    for (let i = 1; i <= instancesPerSeries; i++) {
      const sopInstanceUID = newUid();
      const frame = new Uint8Array(ROWS * COLUMNS * 2).map((_, k) => (k * 13 + s * 31 + i) & 0xff);
      const dict = dataSet({
        SpecificCharacterSet: 'ISO_IR 192',
        SOPClassUID: SopClass.SecondaryCaptureImageStorage,
        SOPInstanceUID: sopInstanceUID,
        StudyDate: stamp.slice(0, 8),
        StudyTime: stamp.slice(8, 14),
        AccessionNumber: 'SMOKE',
        Modality: 'OT',
        ConversionType: 'SYN',
        StudyDescription: 'Deploy smoke test (synthetic, no patient data)',
        SeriesDescription: `Smoke series ${s}`,
        PatientName: SMOKE_PATIENT_NAME,
        PatientID: patientID,
        StudyInstanceUID: studyInstanceUID,
        SeriesInstanceUID: seriesInstanceUID,
        StudyID: 'SMOKE',
        SeriesNumber: s,
        InstanceNumber: i,
        SamplesPerPixel: 1,
        PhotometricInterpretation: 'MONOCHROME2',
        Rows: ROWS,
        Columns: COLUMNS,
        BitsAllocated: 16,
        BitsStored: 16,
        HighBit: 15,
        PixelRepresentation: 0,
      });
      dict[Tag.PixelData] = { vr: 'OW', Value: [frame.slice().buffer] };
      instances.push({ seriesInstanceUID, sopInstanceUID, bytes: newPart10(dict), frame });
    }
  }
  return { studyInstanceUID, patientID, instances };
}
