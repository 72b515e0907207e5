/**
 * Which attributes the index keeps per level, which keys a search may match on, and which
 * attributes a search returns by default (PS3.18 10.6.1.2, 10.6.3.3).
 */
import { Tag } from '../dicom/tags';
import type { Level } from '../storage/ports';

/** PS3.4 C.4.1.1.3.1 / PS3.18 Table 10.6.3-3: everything stored here is ONLINE. */
export const INSTANCE_AVAILABILITY = 'ONLINE';

/** The attribute holding the own UID of an entry of each level. */
export const UID_TAG_OF_LEVEL: Readonly<Record<Level, string>> = {
  STUDY: Tag.StudyInstanceUID,
  SERIES: Tag.SeriesInstanceUID,
  INSTANCE: Tag.SOPInstanceUID,
};

/** Items of Request Attributes Sequence keep only the keys a series search matches on (Table 10.6.1-5). */
export const REQUEST_ATTRIBUTES_ITEM_TAGS: readonly string[] = [Tag.ScheduledProcedureStepID, Tag.RequestedProcedureID];

/** Patient module attributes an index entry keeps: the patient-level keys of PS3.4 Table C.6-1 it answers. */
export const PATIENT_ATTRIBUTES: readonly string[] = [
  Tag.PatientName,
  Tag.PatientID,
  Tag.IssuerOfPatientID,
  Tag.PatientBirthDate,
  Tag.PatientSex,
];

/**
 * Attributes an index entry keeps from the instance, per level: Patient and General Study modules at
 * study level, General Series (and request attributes) at series level, SOP Common and image size at
 * instance level.
 */
export const STORED_ATTRIBUTES: Readonly<Record<Level, readonly string[]>> = {
  STUDY: [
    Tag.SpecificCharacterSet,
    ...PATIENT_ATTRIBUTES,
    Tag.StudyInstanceUID,
    Tag.StudyDate,
    Tag.StudyTime,
    Tag.AccessionNumber,
    Tag.StudyID,
    Tag.StudyDescription,
    Tag.ReferringPhysicianName,
    Tag.TimezoneOffsetFromUTC,
  ],
  SERIES: [
    Tag.Modality,
    Tag.SeriesInstanceUID,
    Tag.SeriesNumber,
    Tag.SeriesDescription,
    Tag.BodyPartExamined,
    Tag.Laterality,
    Tag.PerformedProcedureStepStartDate,
    Tag.PerformedProcedureStepStartTime,
    Tag.RequestAttributesSequence,
  ],
  INSTANCE: [
    Tag.SOPClassUID,
    Tag.SOPInstanceUID,
    Tag.InstanceNumber,
    Tag.Rows,
    Tag.Columns,
    Tag.BitsAllocated,
    Tag.NumberOfFrames,
    Tag.ContentDate,
    Tag.ContentTime,
  ],
};

/** The levels whose attributes an entry of `level` holds: its own and those above (denormalised). */
export function levelsUpTo(level: Level): readonly Level[] {
  return level === 'STUDY' ? ['STUDY'] : level === 'SERIES' ? ['STUDY', 'SERIES'] : ['STUDY', 'SERIES', 'INSTANCE'];
}

/** Counters an entry of the level carries (IndexEntry.relatedSeries / relatedInstances / modalities). */
const COUNTERS: Readonly<Record<Level, readonly string[]>> = {
  STUDY: [Tag.ModalitiesInStudy, Tag.NumberOfStudyRelatedSeries, Tag.NumberOfStudyRelatedInstances],
  SERIES: [Tag.NumberOfSeriesRelatedInstances],
  INSTANCE: [],
};

/**
 * Keys a search at `level` may match on: every attribute an entry of that level holds (which includes
 * the required keys of PS3.18 Table 10.6.1-5 for the level and those above), plus the counters an entry of
 * the level carries (ModalitiesInStudy is a required study key). Dotted paths are accepted for the sequence items kept.
 */
export function matchableTags(level: Level): ReadonlySet<string> {
  return new Set([...levelsUpTo(level).flatMap((l) => STORED_ATTRIBUTES[l]), ...COUNTERS[level]]);
}

/** Sequence paths that may be matched (PS3.4 C.2.2.2.6 sequence matching), as 'seqTag.itemTag'. */
export const MATCHABLE_SEQUENCE_PATHS: ReadonlySet<string> = new Set(
  REQUEST_ATTRIBUTES_ITEM_TAGS.map((t) => `${Tag.RequestAttributesSequence}.${t}`),
);

/** PS3.18 Table 10.6.3-3: Study's default return attributes. */
const STUDY_DEFAULTS: readonly string[] = [
  Tag.SpecificCharacterSet,
  Tag.StudyDate,
  Tag.StudyTime,
  Tag.AccessionNumber,
  Tag.InstanceAvailability,
  Tag.ModalitiesInStudy,
  Tag.ReferringPhysicianName,
  Tag.TimezoneOffsetFromUTC,
  Tag.RetrieveURL,
  Tag.PatientName,
  Tag.PatientID,
  Tag.PatientBirthDate,
  Tag.PatientSex,
  Tag.StudyInstanceUID,
  Tag.StudyID,
  Tag.NumberOfStudyRelatedSeries,
  Tag.NumberOfStudyRelatedInstances,
];

/** PS3.18 Table 10.6.3-4: Series' default return attributes. */
const SERIES_DEFAULTS: readonly string[] = [
  Tag.SpecificCharacterSet,
  Tag.Modality,
  Tag.TimezoneOffsetFromUTC,
  Tag.SeriesDescription,
  Tag.RetrieveURL,
  Tag.SeriesInstanceUID,
  Tag.SeriesNumber,
  Tag.NumberOfSeriesRelatedInstances,
  Tag.PerformedProcedureStepStartDate,
  Tag.PerformedProcedureStepStartTime,
  Tag.RequestAttributesSequence,
];

/** PS3.18 Table 10.6.3-5: Instance's default return attributes. */
const INSTANCE_DEFAULTS: readonly string[] = [
  Tag.SpecificCharacterSet,
  Tag.SOPClassUID,
  Tag.SOPInstanceUID,
  Tag.InstanceAvailability,
  Tag.TimezoneOffsetFromUTC,
  Tag.RetrieveURL,
  Tag.InstanceNumber,
  Tag.Rows,
  Tag.Columns,
  Tag.BitsAllocated,
  Tag.NumberOfFrames,
];

export const DEFAULT_RETURN_ATTRIBUTES: Readonly<Record<Level, readonly string[]>> = {
  STUDY: STUDY_DEFAULTS,
  SERIES: SERIES_DEFAULTS,
  INSTANCE: INSTANCE_DEFAULTS,
};
