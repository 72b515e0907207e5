/**
 * An Encapsulated PDF instance (PS3.3 A.45.1) made with the codec layer: a small PDF, padded past the
 * default bulk data threshold, so that its metadata carries Encapsulated Document (0042,0011) as a
 * BulkDataURI, the way a viewer reaches it.
 */
import { SopClass } from '../../lambdas/dicom/uid';
import { makeInstance, type InstanceOptions } from './dicom-factory';

/** The document: a PDF header and catalog, padding, and its end marker (4 KiB and some). */
export const PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'),
  Buffer.alloc(4096, '%'),
  Buffer.from('\n%%EOF\n'),
]);

/**
 * Part 10 bytes of an Encapsulated PDF holding `document` (default PDF), with the patient and study of
 * `opts`; an odd-length document is padded to an even length as written (PS3.5 7.1.1).
 */
export function encapsulatedPdf(opts: InstanceOptions = {}, document: Uint8Array = PDF): Uint8Array {
  return makeInstance({
    modality: 'DOC',
    ...opts,
    sopClassUID: SopClass.EncapsulatedPDFStorage,
    omit: ['PixelData', 'Rows', 'Columns', 'BitsAllocated', 'BitsStored', 'HighBit', 'PixelRepresentation', 'SamplesPerPixel'],
    extra: {
      PhotometricInterpretation: undefined,
      MIMETypeOfEncapsulatedDocument: 'application/pdf',
      DocumentTitle: 'Second opinion',
      EncapsulatedDocument: document.buffer.slice(document.byteOffset, document.byteOffset + document.byteLength),
      ...opts.extra,
    },
  });
}
