/**
 * The committed Part 10 fixtures (test/fixtures/*.dcm, described in test/fixtures/README.md): how each
 * was generated, with its stable UIDs. Regenerate with `npx tsx test/support/fixtures.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SopClass, TransferSyntax } from '../../lambdas/dicom/uid';
import type { InstanceOptions } from './dicom-factory';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export const FIXTURE_STUDY_UID = '2.25.169082432672233602146940408602541510066';

export const FIXTURES: Readonly<
  Record<
    string,
    Required<Pick<InstanceOptions, 'studyInstanceUID' | 'seriesInstanceUID' | 'sopInstanceUID' | 'sopClassUID' | 'transferSyntaxUID'>> &
      InstanceOptions
  >
> = {
  'ct-explicit-le.dcm': {
    studyInstanceUID: FIXTURE_STUDY_UID,
    seriesInstanceUID: '2.25.260187265001799271917646639432833791759',
    sopInstanceUID: '2.25.151925322953486215980786389778169185357',
    sopClassUID: SopClass.CTImageStorage,
    transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian,
    patientName: 'Fixture^Patient',
    patientID: 'FIXTURE-1',
    rows: 32,
    columns: 32,
    bitsAllocated: 16,
    seriesNumber: 1,
    instanceNumber: 1,
  },
  'mr-implicit-le.dcm': {
    studyInstanceUID: FIXTURE_STUDY_UID,
    seriesInstanceUID: '2.25.146399446044109296879112225007365725441',
    sopInstanceUID: '2.25.19520839614726963877370187681678519456',
    sopClassUID: SopClass.MRImageStorage,
    transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian,
    patientName: 'Fixture^Patient',
    patientID: 'FIXTURE-1',
    rows: 32,
    columns: 32,
    bitsAllocated: 16,
    seriesNumber: 2,
    instanceNumber: 1,
  },
  'us-multiframe-jpeg.dcm': {
    studyInstanceUID: FIXTURE_STUDY_UID,
    seriesInstanceUID: '2.25.319581367080482227799197198900312243984',
    sopInstanceUID: '2.25.98970498729904763081013664420004966377',
    sopClassUID: SopClass.UltrasoundMultiFrameImageStorage,
    transferSyntaxUID: TransferSyntax.JPEGBaseline8Bit,
    modality: 'US',
    patientName: 'Fixture^Patient',
    patientID: 'FIXTURE-1',
    rows: 16,
    columns: 16,
    numberOfFrames: 4,
    seriesNumber: 3,
    instanceNumber: 1,
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { makeInstance } = await import('./dicom-factory');
  for (const [name, options] of Object.entries(FIXTURES)) writeFileSync(`${FIXTURES_DIR}${name}`, makeInstance(options));
}
