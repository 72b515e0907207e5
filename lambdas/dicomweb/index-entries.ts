/**
 * The study, series and instance index entries of one stored instance (docs/architecture.md, storage model).
 * Each entry keeps its level's attributes plus those of the levels above, so that a relational search
 * (e.g. /instances?PatientID=...) matches a single entry.
 */
import { Tag } from '../dicom/tags';
import { copyJson, stringValue } from '../dicom/json';
import type { IndexEntry, InstanceObject, Level } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { REQUEST_ATTRIBUTES_ITEM_TAGS, STORED_ATTRIBUTES, levelsUpTo } from './attributes';
import { BadRequestError } from './errors';

export interface InstanceIndexEntries {
  readonly study: IndexEntry;
  readonly series: IndexEntry;
  readonly instance: IndexEntry;
}

/** Builds the three entries from the instance's full DICOM JSON (PS3.18 Annex F). */
export function buildIndexEntries(dataset: DicomJson, instance: InstanceObject): InstanceIndexEntries {
  const studyInstanceUID = requiredUid(dataset, Tag.StudyInstanceUID, 'Study Instance UID');
  const seriesInstanceUID = requiredUid(dataset, Tag.SeriesInstanceUID, 'Series Instance UID');
  const sopInstanceUID = requiredUid(dataset, Tag.SOPInstanceUID, 'SOP Instance UID');
  // Both become index keys (DynamoDB: 2048 bytes at most): a value no valid DA (8 digits) or LO (64
  // characters, PS3.5 6.2) is indexed as absent, its instance stored all the same.
  const studyDate = normalizedDateTime('DA', stringValue(dataset, Tag.StudyDate)?.trim() ?? '');
  const patientId = stringValue(dataset, Tag.PatientID)?.trim() ?? '';
  const indexedDate = /^\d{8}$/.test(studyDate) ? studyDate : '';
  const indexedPatientId = patientId.length <= 64 ? patientId : '';
  // Written out, not spread from a common object: V8 makes `{ ...common, more }` ~100 times slower.
  return {
    study: {
      studyInstanceUID,
      studyDate: indexedDate,
      patientId: indexedPatientId,
      level: 'STUDY',
      attributes: attributesOf(dataset, 'STUDY'),
    },
    series: {
      studyInstanceUID,
      studyDate: indexedDate,
      patientId: indexedPatientId,
      level: 'SERIES',
      seriesInstanceUID,
      attributes: attributesOf(dataset, 'SERIES'),
    },
    instance: {
      studyInstanceUID,
      studyDate: indexedDate,
      patientId: indexedPatientId,
      level: 'INSTANCE',
      seriesInstanceUID,
      sopInstanceUID,
      attributes: attributesOf(dataset, 'INSTANCE'),
      instance,
    },
  };
}

function requiredUid(dataset: DicomJson, tag: string, name: string): string {
  const uid = stringValue(dataset, tag)?.trim();
  // The store service validates UIDs before indexing; this guards callers that did not.
  if (!uid) throw new BadRequestError(`the instance has no ${name} (${tag})`);
  return uid;
}

/** The tags an entry of each level keeps: its level's and those of the levels above. */
const KEPT_TAGS: Readonly<Record<Level, readonly string[]>> = {
  STUDY: levelsUpTo('STUDY').flatMap((l) => STORED_ATTRIBUTES[l]),
  SERIES: levelsUpTo('SERIES').flatMap((l) => STORED_ATTRIBUTES[l]),
  INSTANCE: levelsUpTo('INSTANCE').flatMap((l) => STORED_ATTRIBUTES[l]),
};

/** The attributes an entry of `level` keeps (KEPT_TAGS). */
function attributesOf(dataset: DicomJson, level: Level): DicomJson {
  const out: DicomJson = {};
  for (const tag of KEPT_TAGS[level]) {
    const element = dataset[tag];
    if (element === undefined || !fitsIndex(element)) continue;
    out[tag] = tag === Tag.RequestAttributesSequence ? requestAttributes(element) : normalized(copyJson(element));
  }
  return out;
}

/**
 * The most one attribute takes in an index entry, as DICOM JSON. An index item holds at most 400 KB
 * (DynamoDB) and an entry keeps at most 32 attributes, so 8 KiB each keeps every entry well within it:
 * an instance whose value is larger (a description of thousands of values, say) is stored all the same,
 * that attribute left out of the index only (searches neither match nor return it; the stored object
 * and its metadata keep it).
 */
export const MAX_INDEXED_ATTRIBUTE_BYTES = 8 * 1024;

/** True when the attribute is small enough to be kept in an index entry. */
export function fitsIndex(element: DicomJson[string]): boolean {
  if (element.Value === undefined || element.Value.length === 0) return true;
  // Cheap bound first: most values are a few short strings or numbers.
  if (element.Value.length <= 8 && element.Value.every((v) => typeof v === 'number' || (typeof v === 'string' && v.length <= 256)))
    return true;
  return Buffer.byteLength(JSON.stringify(element)) <= MAX_INDEXED_ATTRIBUTE_BYTES;
}

/**
 * PS3.5 6.2, notes on DA and TM: for backward compatibility with versions of the standard before
 * V3.0, dates may come as YYYY.MM.DD and times as HH:MM:SS.frac. The index keeps them as YYYYMMDD and
 * HHMMSS.frac, the forms searches match and sort on (the stored object and its metadata keep them as
 * received).
 */
export function normalizedDateTime(vr: string, value: string): string {
  if (vr === 'DA') return /^\d{4}\.\d{2}\.\d{2}$/.test(value) ? value.replaceAll('.', '') : value;
  if (vr === 'TM') return /^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/.test(value) ? value.replaceAll(':', '') : value;
  return value;
}

function normalized(element: DicomJson[string]): DicomJson[string] {
  if ((element.vr === 'DA' || element.vr === 'TM') && element.Value) {
    element.Value = element.Value.map((v) => (typeof v === 'string' ? normalizedDateTime(element.vr, v.trim()) : v));
  }
  return element;
}

/** Request Attributes Sequence trimmed to the item keys a series search matches on. */
function requestAttributes(element: DicomJson[string]): DicomJson[string] {
  const items = (element.Value ?? []) as DicomJson[];
  return {
    vr: 'SQ',
    Value: items.map((item) => {
      const kept: DicomJson = {};
      for (const tag of REQUEST_ATTRIBUTES_ITEM_TAGS) if (item[tag]) kept[tag] = copyJson(item[tag]);
      return kept;
    }),
  };
}
