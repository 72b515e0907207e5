/** The smoke test's synthetic study: valid Part 10 files, a clearly fake patient, fresh UIDs, known frames. */
import { describe, expect, it } from 'vitest';
import { extractFrames } from '../../../../lambdas/dicom/frames/instance';
import { readPart10 } from '../../../../lambdas/dicom/part10';
import { Tag } from '../../../../lambdas/dicom/tags';
import { isValidUid, SopClass } from '../../../../lambdas/dicom/uid';
import { makeSmokeStudy } from '../../../../lib/cli/smoke-study';

describe('makeSmokeStudy', () => {
  it('2 series x 2 Secondary Capture images of patient SMOKE^TEST, UIDs fresh and consistent with the files', () => {
    const study = makeSmokeStudy({ now: new Date('2026-12-06T12:30:05Z') });
    expect(study.instances).toHaveLength(4);
    expect(study.patientID).toMatch(/^SMOKE-20261206123005-\d{6}$/);
    for (const instance of study.instances) {
      const parsed = readPart10(instance.bytes);
      expect(parsed.sopClassUID).toBe(SopClass.SecondaryCaptureImageStorage);
      expect([parsed.studyInstanceUID, parsed.seriesInstanceUID, parsed.sopInstanceUID]).toEqual([
        study.studyInstanceUID,
        instance.seriesInstanceUID,
        instance.sopInstanceUID,
      ]);
      expect(parsed.dict[Tag.PatientName]!.Value).toEqual([{ Alphabetic: 'SMOKE^TEST' }]);
      expect(parsed.dict[Tag.PatientID]!.Value).toEqual([study.patientID]);
      // The frame the Retrieve step expects is the file's frame 1.
      expect(Buffer.from(extractFrames(parsed, [1]).frames[0]!)).toEqual(Buffer.from(instance.frame));
    }
    const uids = [study.studyInstanceUID, ...study.instances.flatMap((i) => [i.seriesInstanceUID, i.sopInstanceUID])];
    expect(uids.every(isValidUid)).toBe(true);
    expect(new Set(uids).size).toBe(1 + 2 + 4); // the study, its 2 series, its 4 instances
    expect(new Set(study.instances.map((i) => Buffer.from(i.frame).toString('hex'))).size).toBe(4);
  });

  it('every run has its own study and Patient ID', () => {
    const [one, two] = [makeSmokeStudy(), makeSmokeStudy()];
    expect(one.studyInstanceUID).not.toBe(two.studyInstanceUID);
    expect(one.patientID).not.toBe(two.patientID);
  });
});
