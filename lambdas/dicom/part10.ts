/**
 * DICOM Part 10 files (PS3.10 7) read with dcmjs into the dict ./part10-write.ts writes, and the
 * re-encoding of uncompressed transfer syntaxes into Explicit VR Little Endian (PS3.5 A.1-A.5).
 *
 * dcmjs silently accepts a file cut short inside a binary value, and can be sent into long loops by
 * garbage lengths, so every file is first walked element by element (PS3.5 7.1, 7.5, A.4) and
 * refused with a Part10Error unless each value, item and fragment lies inside the bytes.
 */
import { deflateRawSync } from 'node:zlib';
import { data as dcmjsData, log as dcmjsLog } from 'dcmjs';
import { characterSetDecoding, isLatin1Compatible, specificCharacterSetTerms } from './character-sets';
import { firstString, type DataSet } from './data-set';
import { vrsOf } from './dictionary';
import { checkOffsetTable, unreadValues, withoutValues } from './part10-bulk';
import {
  asciiDecoder,
  BulkDataValue,
  ElementWalker,
  transferSyntaxEncoding,
  EXPLICIT_LE,
  inflateDataSet,
  Part10Error,
  readFileMeta,
  UNDEFINED_LENGTH,
  type ElementVisitor,
} from './part10-scan';
import { decodeTextValues } from './part10-text';
import { swapBinaryWords, writePart10 } from './part10-write';
import { Tag, tagNumber, tagString } from './tags';
import { TransferSyntax, isUncompressedTransferSyntax } from './uid';

export { binaryValueBytes, BulkDataValue, Part10Error, scanPart10Header, type ElementAt, type Part10Header } from './part10-scan';

const SPECIFIC_CHARACTER_SET = tagNumber(Tag.SpecificCharacterSet);

// dcmjs logs through loglevel, sometimes with element values: silence it so no patient data reaches the logs.
dcmjsLog.setLevel('silent');
for (const logger of Object.values(dcmjsLog.getLoggers())) logger.setLevel('silent');

/** The instance cannot be re-encoded in the requested transfer syntax. */
export class TranscodeError extends Error {}

/** An instance as readPart10 returns it: the identifying UIDs, the File Meta Information and the data set. */
export interface ParsedInstance {
  readonly transferSyntaxUID: string;
  /** '' when absent, like the four UIDs below. */
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly mediaStorageSOPInstanceUID: string;
  readonly mediaStorageSOPClassUID: string;
  /** File Meta Information (group 0002) as a dcmjs dict. */
  readonly meta: DataSet;
  /**
   * The data set as a dcmjs dict: tag -> { vr, Value }. Strings, numbers, PN as { Alphabetic, ... },
   * AT as numbers, sequences as arrays of dicts, binary values as ArrayBuffer[] in little-endian byte
   * order whatever the transfer syntax, encapsulated Pixel Data as one ArrayBuffer per frame or fragment;
   * a value left unread (readPart10's `bulkDataAbove`) as one BulkDataValue.
   */
  readonly dict: DataSet;
}

/** What identifies an instance read: its transfer syntax, its UIDs and those of its File Meta Information. */
export type Part10Identity = Omit<ParsedInstance, 'meta' | 'dict'>;

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(bytes).buffer; // a copy of exactly these bytes (Buffer#slice would not copy)
}

/**
 * PS3.5 A.1 (c): in Implicit VR, an element whose dictionary VR is 'US or SS' is SS when Pixel
 * Representation (0028,0103) is 1. dcmjs reads them all as US; relabel and re-sign them so the values
 * are right and a re-encoding in Explicit VR carries the right VR.
 */
function resolveUsOrSs(dict: DataSet): void {
  if (Number(dict[Tag.PixelRepresentation]?.Value?.[0]) !== 1) return;
  for (const [tag, element] of Object.entries(dict)) {
    if (element.vr !== 'US' || !vrsOf(tag).includes('SS')) continue;
    dict[tag] = { vr: 'SS', Value: element.Value?.map((v) => (typeof v === 'number' && v > 0x7fff ? v - 0x10000 : v)) };
  }
}

export interface ReadPart10Options {
  /**
   * Top-level binary values (OB OD OF OL OV OW; in Implicit VR, Pixel Data) longer than this many bytes,
   * and encapsulated Pixel Data, are not read: the dict holds a BulkDataValue, where the value lies in
   * the bytes, instead of a copy of it. For a reader that wants the attributes and not the pixels (a
   * Store request, whose DICOM JSON gives those values a BulkDataURI): dcmjs copies every value it
   * reads, and a Pixel Data copy per instance in flight is most of what storing holds in memory.
   */
  readonly bulkDataAbove?: number;
}

/**
 * Reads a Part 10 file (PS3.10 7.1: preamble, 'DICM', File Meta Information, data set).
 * Throws Part10Error, and nothing else, when the bytes are not a well-formed Part 10 file.
 */
export function readPart10(bytes: Uint8Array, opts: ReadPart10Options = {}): ParsedInstance {
  try {
    return parse(bytes, opts);
  } catch (error) {
    if (error instanceof Part10Error) throw error;
    // dcmjs throws plain Errors, TypeErrors, RangeErrors: all mean "cannot understand".
    throw new Part10Error('not a readable DICOM Part 10 file');
  }
}

function parse(bytes: Uint8Array, opts: ReadPart10Options): ParsedInstance {
  const walker = new ElementWalker(bytes);
  const { transferSyntaxUID, metaEnd } = readFileMeta(bytes, walker);

  // Every Specific Character Set (0008,0005) of the data set and its items, in the order of the bytes.
  const characterSets: { readonly valueStart: number; readonly length: number; readonly terms: string[] }[] = [];
  const findCharacterSetsIn =
    (dataSetBytes: Uint8Array): ElementVisitor =>
    (tag, valueStart, length) => {
      if (tag !== SPECIFIC_CHARACTER_SET) return;
      const terms = specificCharacterSetTerms(asciiDecoder.decode(dataSetBytes.subarray(valueStart, valueStart + length)));
      characterSets.push({ valueStart, length, terms });
    };
  const deflated = transferSyntaxUID === TransferSyntax.DeflatedExplicitVRLittleEndian;
  // The data set's own bytes: inflated (a copy of ours) when deflated, else a view of the caller's.
  const dataSet = deflated ? inflateDataSet(bytes.subarray(metaEnd)) : bytes.subarray(metaEnd);
  if (dataSet.length === 0) throw new Part10Error('empty data set');
  const encoding = deflated ? EXPLICIT_LE : transferSyntaxEncoding(transferSyntaxUID);
  new ElementWalker(dataSet).dataSet(0, dataSet.length, encoding, false, findCharacterSetsIn(dataSet), true);
  // A deflated data set is read whole: leaving values out would mean deflating it again for dcmjs.
  const unread = opts.bulkDataAbove === undefined || deflated ? [] : unreadValues(dataSet, encoding, opts.bulkDataAbove);
  // What dcmjs would refuse of the items it does not read now, refused all the same.
  for (const e of unread) if (e.length === UNDEFINED_LENGTH) checkOffsetTable(dataSet, e);

  // dcmjs reads the values of a data set's own character set only when it has one value it knows, and
  // those of sequence items always as ISO 8859-1. Unless every character set here reads as ISO 8859-1,
  // each is blanked while dcmjs reads (and restored after: the caller's bytes come back unchanged, with
  // no copy of an object that may be large), so that dcmjs reads every text value as ISO 8859-1, one
  // character per byte; the values are then decoded from those bytes in the character set of each.
  // A deflated data set is blanked in its inflated copy and deflated again for dcmjs, which inflates it.
  const decodeTexts = characterSets.some((set) => !isLatin1Compatible(set.terms));
  const blanked = decodeTexts ? characterSets : [];
  // What the caller's bytes held there, copied (a Buffer's slice would share the bytes it restores).
  const originals = deflated ? [] : blanked.map((set) => Uint8Array.from(dataSet.subarray(set.valueStart, set.valueStart + set.length)));
  let file: ReturnType<typeof dcmjsData.DicomMessage.readFile>;
  try {
    for (const set of blanked) dataSet.fill(0x20, set.valueStart, set.valueStart + set.length);
    const input =
      deflated && decodeTexts
        ? Buffer.concat([bytes.subarray(0, metaEnd), deflateRawSync(dataSet)])
        : unread.length > 0
          ? withoutValues(bytes, metaEnd, unread)
          : bytes;
    file = dcmjsData.DicomMessage.readFile(toArrayBuffer(input), { ignoreErrors: false });
  } finally {
    originals.forEach((original, i) => dataSet.set(original, blanked[i]!.valueStart));
  }
  const meta = file.meta as DataSet;
  const dict = file.dict as DataSet;
  for (const e of unread) {
    const key = tagString(e.tag);
    dict[key] = { vr: dict[key]?.vr ?? e.vr ?? 'OW', Value: [new BulkDataValue(metaEnd + e.valueStart, e.end - e.valueStart)] };
  }
  if (decodeTexts)
    decodeTextValues(
      dict,
      characterSetDecoding([]),
      characterSets.map((set) => set.terms),
    );
  if (transferSyntaxUID === TransferSyntax.ExplicitVRBigEndian) swapBinaryWords(dict);
  if (transferSyntaxUID === TransferSyntax.ImplicitVRLittleEndian) resolveUsOrSs(dict);
  return {
    transferSyntaxUID,
    sopClassUID: firstString(dict, Tag.SOPClassUID),
    sopInstanceUID: firstString(dict, Tag.SOPInstanceUID),
    studyInstanceUID: firstString(dict, Tag.StudyInstanceUID),
    seriesInstanceUID: firstString(dict, Tag.SeriesInstanceUID),
    mediaStorageSOPClassUID: firstString(meta, Tag.MediaStorageSOPClassUID),
    mediaStorageSOPInstanceUID: firstString(meta, Tag.MediaStorageSOPInstanceUID),
    meta,
    dict,
  };
}

/**
 * Returns the bytes unchanged when already Explicit VR Little Endian; re-encodes the other uncompressed
 * transfer syntaxes (PS3.5 A.1-A.5), keeping every value and the Pixel Data byte-exact; throws
 * TranscodeError for encapsulated (compressed) ones, which would need a codec.
 */
export function toExplicitVRLittleEndian(bytes: Uint8Array): Uint8Array {
  const instance = readPart10(bytes);
  if (instance.transferSyntaxUID === TransferSyntax.ExplicitVRLittleEndian) return bytes;
  if (!isUncompressedTransferSyntax(instance.transferSyntaxUID)) {
    throw new TranscodeError(`cannot decompress transfer syntax ${instance.transferSyntaxUID}`);
  }
  return writePart10(instance, TransferSyntax.ExplicitVRLittleEndian);
}
