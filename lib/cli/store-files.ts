/**
 * What `npm run store` finds to send: files and folders walked recursively, a folder holding a DICOMDIR
 * read for the files it references (PS3.10 8.6, PS3.3 F.3) instead of walked, and each file sorted
 * into a Part 10 file to send, with its UIDs read from its header, or a note saying why it is not sent.
 */
import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Part10Error, readPart10 } from '../../lambdas/dicom/part10';
import { asciiDecoder, DICM, PREAMBLE_LENGTH, scanPart10HeaderOrNeed, type Part10Header } from '../../lambdas/dicom/part10-scan';
import { Tag, tagNumber } from '../../lambdas/dicom/tags';

/** Directory Record Sequence (0004,1220) and Referenced File ID (0004,1500), PS3.3 F.3.2.2. */
const DIRECTORY_RECORD_SEQUENCE = '00041220';
const REFERENCED_FILE_ID = '00041500';
/** The header is read from a prefix of the file this long, more when an element ends beyond it. */
const HEADER_PREFIX_BYTES = 64 * 1024;
/** A header longer than this is not read (the file is sent whole and the Store judges it). */
const HEADER_MAX_BYTES = 16 * 1024 * 1024;

/** A Part 10 file to send; the UIDs are '' when its header could not be read here. */
export interface InstanceFile {
  readonly path: string;
  readonly size: number;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
}

/** A file not sent, and why. */
export interface SkippedFile {
  readonly path: string;
  readonly note: string;
}

export interface FoundFiles {
  readonly instances: InstanceFile[];
  readonly notes: SkippedFile[];
}

/** What a file is, from its first bytes (PS3.10 7.1: a 128-byte preamble, then 'DICM'). */
export type FileKind = 'part10' | 'data-set' | 'other';

export function fileKind(head: Uint8Array): FileKind {
  if (head.length >= PREAMBLE_LENGTH + 4 && asciiDecoder.decode(head.subarray(PREAMBLE_LENGTH, PREAMBLE_LENGTH + 4)) === DICM)
    return 'part10';
  return looksLikeDataSet(head) ? 'data-set' : 'other';
}

/**
 * A data set written without the Part 10 preamble and File Meta Information (PS3.5 7.1): its first
 * element is a little endian tag of group 0002 or 0008 followed by an explicit VR or a 4-byte length.
 */
function looksLikeDataSet(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const group = head[0]! | (head[1]! << 8);
  if (group !== 0x0002 && group !== 0x0008) return false;
  const vr = asciiDecoder.decode(head.subarray(4, 6));
  if (/^[A-Z]{2}$/.test(vr)) return true;
  const length = (head[4]! | (head[5]! << 8) | (head[6]! << 16)) + head[7]! * 2 ** 24;
  return length < 2 ** 16;
}

/** Reads `length` bytes from the start of a file (fewer when it is shorter). */
async function readHead(file: string, length: number): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const STOP_TAG = tagNumber(Tag.SeriesInstanceUID) + 1;

/** The header up to Series Instance UID, reading more of the file while an element ends beyond the prefix. */
async function scanHeader(file: string, size: number): Promise<{ header: Part10Header | undefined; bytes: Uint8Array }> {
  let length = Math.min(size, HEADER_PREFIX_BYTES);
  for (;;) {
    const bytes = await readHead(file, length);
    const scan = scanPart10HeaderOrNeed(bytes, STOP_TAG);
    if (scan === undefined || 'stop' in scan) return { header: scan, bytes };
    // The header ends beyond what was read, or the file ends inside it (then bytesNeeded > size).
    if (scan.bytesNeeded > size || scan.bytesNeeded > HEADER_MAX_BYTES || scan.bytesNeeded <= length) return { header: undefined, bytes };
    length = Math.max(scan.bytesNeeded, Math.min(size, length * 2));
  }
}

function stringValue(header: Part10Header, bytes: Uint8Array, tag: string): string {
  const at = header.elements.get(tagNumber(tag));
  if (!at) return '';
  return asciiDecoder.decode(bytes.subarray(at.valueStart, at.valueStart + at.length)).replace(/[\0 ]+$/, '');
}

interface Identified {
  readonly uids: Omit<InstanceFile, 'path' | 'size'>;
  /** The data set holds the File-set Identification and Directory Information Modules (group 0004): a DICOMDIR. */
  readonly directory: boolean;
}

const NO_UIDS = { studyInstanceUID: '', seriesInstanceUID: '', sopInstanceUID: '' };

/** The UIDs of a Part 10 file: from a header scan, else (big endian, deflated) by reading it whole. */
async function identify(file: string, size: number): Promise<Identified> {
  const { header, bytes } = await scanHeader(file, size);
  if (header) {
    const value = (tag: string) => stringValue(header, bytes, tag);
    return {
      uids: {
        studyInstanceUID: value(Tag.StudyInstanceUID),
        seriesInstanceUID: value(Tag.SeriesInstanceUID),
        sopInstanceUID: value(Tag.SOPInstanceUID),
      },
      directory: [...header.elements.keys()].some((tag) => tag >>> 16 === 0x0004),
    };
  }
  if (size > HEADER_MAX_BYTES) return { uids: NO_UIDS, directory: false };
  try {
    const whole = await readHead(file, size);
    const parsed = readPart10(whole, { bulkDataAbove: 1024 });
    const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = parsed;
    return { uids: { studyInstanceUID, seriesInstanceUID, sopInstanceUID }, directory: DIRECTORY_RECORD_SEQUENCE in parsed.dict };
  } catch (err) {
    // Unreadable here: sent all the same, for the Store to judge and name the Failure Reason.
    if (err instanceof Part10Error) return { uids: NO_UIDS, directory: false };
    throw err;
  }
}

/** The files a DICOMDIR references (Referenced File ID components, relative to its folder), in record order. */
export async function referencedFiles(dicomdir: string): Promise<string[]> {
  const bytes = await readHead(dicomdir, (await stat(dicomdir)).size);
  const { dict } = readPart10(bytes);
  const records = (dict[DIRECTORY_RECORD_SEQUENCE]?.Value ?? []) as Record<string, { Value?: unknown[] }>[];
  const folder = path.dirname(dicomdir);
  const files: string[] = [];
  for (const record of records) {
    const components = (record[REFERENCED_FILE_ID]?.Value ?? []).map((c) => String(c).trim()).filter(Boolean);
    if (components.length) files.push(path.join(folder, ...components));
  }
  return files;
}

function isDicomdirName(name: string): boolean {
  return name.toUpperCase() === 'DICOMDIR';
}

/**
 * Walks `inputs` (files and folders) in order. Callbacks keep memory flat for big trees: each file is
 * looked at once, as it is found.
 */
export async function findFiles(inputs: readonly string[], onNote?: (note: SkippedFile) => void): Promise<FoundFiles> {
  const instances: InstanceFile[] = [];
  const notes: SkippedFile[] = [];
  const note = (file: string, text: string) => {
    const n = { path: file, note: text };
    notes.push(n);
    onNote?.(n);
  };
  const seen = new Set<string>();

  const visitFile = async (file: string, size: number): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const kind = fileKind(await readHead(file, PREAMBLE_LENGTH + 8));
    if (kind === 'data-set') return note(file, "a data set without the Part 10 preamble and 'DICM' (PS3.10 7.1): not sent");
    if (kind === 'other') return note(file, 'not DICOM: skipped');
    const { uids, directory } = await identify(file, size);
    if (directory) return note(file, 'a DICOMDIR: read, never sent');
    instances.push({ path: file, size, ...uids });
  };

  const visitDicomdir = async (dicomdir: string): Promise<void> => {
    seen.add(dicomdir);
    let files: string[];
    try {
      files = await referencedFiles(dicomdir);
    } catch (err) {
      if (!(err instanceof Part10Error)) throw err;
      return note(dicomdir, `a DICOMDIR that cannot be read (${err.message})`);
    }
    note(dicomdir, `a DICOMDIR: read for the ${files.length} file(s) it references, never sent`);
    for (const file of files) {
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) note(file, 'referenced by the DICOMDIR but missing');
      else await visitFile(file, info.size);
    }
  };

  const visitFolder = async (folder: string): Promise<void> => {
    const entries: Dirent[] = (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    const dicomdir = entries.find((e) => e.isFile() && isDicomdirName(e.name));
    if (dicomdir) return visitDicomdir(path.join(folder, dicomdir.name));
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await visitFolder(full);
      else if (entry.isFile()) await visitFile(full, (await stat(full)).size);
    }
  };

  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info) note(input, 'no such file or folder');
    else if (info.isDirectory()) await visitFolder(input);
    else if (isDicomdirName(path.basename(input))) await visitDicomdir(input);
    else await visitFile(input, info.size);
  }
  return { instances, notes };
}
