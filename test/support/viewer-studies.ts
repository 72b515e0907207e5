/**
 * Studies for the viewer's browser suite: rendering fixtures of test/fixtures/render, each as a study
 * of its own (fresh UIDs, its own patient), and an Encapsulated PDF written in code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readPart10 } from '../../lambdas/dicom/part10';
import { writePart10 } from '../../lambdas/dicom/part10-write';
import { Tag } from '../../lambdas/dicom/tags';
import { newUid } from '../../lambdas/dicom/uid';
import { encapsulatedPdf } from './encapsulated-pdf';
import { FIXTURES_DIR } from './fixtures';

export interface ViewerStudy {
  /** What the study shows (the test's name). */
  readonly label: string;
  readonly patientName: string;
  readonly studyInstanceUID: string;
  /** The Part 10 files to store. */
  readonly files: readonly Uint8Array[];
  /** The Encapsulated PDF: shown in OHIF's PDF viewport rather than a canvas. */
  readonly pdf?: boolean;
}

/**
 * `test/fixtures/render/<file>` as a study of its own: new Study, Series and SOP Instance UIDs and the
 * patient `Viewer^<label>`, in the file's own transfer syntax (the encapsulated frames kept as they are).
 */
export function renderFixtureStudy(file: string, label: string): ViewerStudy {
  const instance = readPart10(new Uint8Array(readFileSync(path.join(FIXTURES_DIR, 'render', file))));
  const studyInstanceUID = newUid();
  const patientName = `Viewer^${label.replace(/[^A-Za-z0-9]+/g, '')}`;
  const dict = { ...instance.dict };
  const set = (tag: string, vr: string, value: string) => (dict[tag] = { vr, Value: [value] });
  set(Tag.StudyInstanceUID, 'UI', studyInstanceUID);
  set(Tag.SeriesInstanceUID, 'UI', newUid());
  set(Tag.SOPInstanceUID, 'UI', newUid());
  set(Tag.PatientName, 'PN', patientName);
  set(Tag.PatientID, 'LO', `VIEWER-${label.replace(/[^A-Za-z0-9]+/g, '').toUpperCase()}`);
  set(Tag.StudyDescription, 'LO', label);
  return { label, patientName, studyInstanceUID, files: [writePart10({ meta: {}, dict }, instance.transferSyntaxUID)] };
}

/**
 * A one-page PDF saying `text`, with its cross-reference table at the right offsets (ISO 32000-1 7.5),
 * and a comment of `padding` bytes after its header.
 */
export function onePagePdf(text: string, padding = 0): Uint8Array {
  const stream = `BT /F1 36 Tf 72 700 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = `%PDF-1.4\n${padding ? `%${'-'.repeat(padding)}\n` : ''}`;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}

/**
 * An Encapsulated PDF Storage instance (PS3.3 A.45.1, test/support/encapsulated-pdf.ts) of a study of
 * its own, holding a one-page PDF that a PDF viewer paints.
 */
export function encapsulatedPdfStudy(label = 'PDF'): ViewerStudy {
  const studyInstanceUID = newUid();
  const patientName = `Viewer^${label}`;
  // Larger than BULKDATA_THRESHOLD's default (1,024 bytes): the metadata gives a BulkDataURI for it.
  const document = onePagePdf('Second opinion', 4096);
  const file = encapsulatedPdf(
    {
      studyInstanceUID,
      patientName,
      patientID: `VIEWER-${label.toUpperCase()}`,
      studyDescription: label,
      seriesDescription: 'Report',
      accessionNumber: 'ACCPDF',
      studyID: 'PDF1',
      extra: { ConversionType: 'WSD', BurnedInAnnotation: 'YES', DocumentTitle: 'Report' },
    },
    document,
  );
  return { label, patientName, studyInstanceUID, files: [file], pdf: true };
}
