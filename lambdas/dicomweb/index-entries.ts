/**
 * The study, series and instance index entries of one stored instance (DESIGN.md, storage model).
 * Each entry keeps its level's attributes plus those of the levels above, so that a relational search
 * (e.g. /instances?PatientID=...) matches a single entry.
 */
import { Tag } from '../dicom/tags';
import { stringValue } from '../dicom/json';
import type { DicomJson, IndexEntry, InstanceObject, Level } from '../storage/ports';
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
  const common = {
    studyInstanceUID,
    studyDate: normalizedDateTime('DA', stringValue(dataset, Tag.StudyDate)?.trim() ?? ''),
    patientId: stringValue(dataset, Tag.PatientID)?.trim() ?? '',
  };
  return {
    study: { ...common, level: 'STUDY', attributes: attributesOf(dataset, 'STUDY') },
    series: { ...common, level: 'SERIES', seriesInstanceUID, attributes: attributesOf(dataset, 'SERIES') },
    instance: {
      ...common,
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

/** The attributes an entry of `level` keeps: its level's and those of the levels above. */
function attributesOf(dataset: DicomJson, level: Level): DicomJson {
  const out: DicomJson = {};
  for (const tag of levelsUpTo(level).flatMap((l) => STORED_ATTRIBUTES[l])) {
    const element = dataset[tag];
    if (element === undefined) continue;
    out[tag] = tag === Tag.RequestAttributesSequence ? requestAttributes(element) : normalized(structuredClone(element));
  }
  return out;
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
      for (const tag of REQUEST_ATTRIBUTES_ITEM_TAGS) if (item[tag]) kept[tag] = structuredClone(item[tag]);
      return kept;
    }),
  };
}
