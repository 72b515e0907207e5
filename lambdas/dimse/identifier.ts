/**
 * C-FIND and C-MOVE Identifiers (PS3.4 C.4.1.1.3, C.4.2.1.4) in terms of the QIDO-RS search
 * (lambdas/dicomweb/search.ts), so the DIMSE gateway answers from the same index with the same
 * matching rules. Pure: no I/O.
 */
import { data as dcmjsData } from 'dcmjs';
import { CHARACTER_SET_VRS, UTF8_TERM, hasNonAsciiText, redecodeCodeExtensions } from '../dicom/character-sets';
import { vrOf } from '../dicom/dictionary';
import { PN_GROUPS, personName } from '../dicom/json';
import { Tag } from '../dicom/tags';
import { isValidUid } from '../dicom/uid';
import { BadRequestError } from '../dicomweb/errors';
import { PATIENT_ATTRIBUTES, matchableTags } from '../dicomweb/attributes';
import { normalizedDateTime } from '../dicomweb/index-entries';
import { parseSearchParameters, type SearchParameters } from '../dicomweb/query-params';
import type { Level } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { Status } from './status';

/** Tags of the Query/Retrieve Identifier the search does not know: a view on dicom/tags.ts. */
export const QRTag = {
  QueryRetrieveLevel: Tag.QueryRetrieveLevel,
  RetrieveAETitle: Tag.RetrieveAETitle,
  NumberOfPatientRelatedStudies: Tag.NumberOfPatientRelatedStudies,
} as const;

/** Query/Retrieve Information Models the gateway serves (PS3.4 C.6.1, C.6.2). */
export type InformationModel = 'PATIENT' | 'STUDY';
/** Query/Retrieve Level (0008,0052), PS3.4 C.6. */
export type QueryRetrieveLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

/** A C-FIND/C-MOVE request the gateway answers with a status other than Pending or Success. */
export class DimseStatusError extends Error {
  constructor(
    readonly status: number,
    /** Error Comment (0000,0902): at most 64 characters, no patient data. */
    readonly comment: string,
    /** Offending Element (0000,0901). */
    readonly offendingElements: readonly string[] = [],
  ) {
    super(comment);
  }
}

export interface FindQuery {
  readonly queryLevel: QueryRetrieveLevel;
  /** The level the index is searched at (PATIENT is searched as STUDY and grouped by patient). */
  readonly level: Level;
  readonly parameters: SearchParameters;
  /** Tags the SCU asked for (the keys of the Identifier), in order. */
  readonly returnTags: readonly string[];
  /** Keys with a value the gateway cannot match on: ignored for matching (C-FIND status FF01). */
  readonly unsupportedKeys: readonly string[];
}

const LEVEL_OF: Readonly<Record<QueryRetrieveLevel, Level>> = {
  PATIENT: 'STUDY',
  STUDY: 'STUDY',
  SERIES: 'SERIES',
  IMAGE: 'INSTANCE',
};

/** Keys answered by the gateway itself, never matched. */
const NOT_MATCHED = new Set<string>([
  QRTag.QueryRetrieveLevel,
  QRTag.RetrieveAETitle,
  Tag.SpecificCharacterSet,
  Tag.InstanceAvailability,
  QRTag.NumberOfPatientRelatedStudies,
]);

/** The patient-level keys of PS3.4 Table C.6-1 the index keeps. */
const PATIENT_KEYS = new Set<string>(PATIENT_ATTRIBUTES);

const { DicomMetaDictionary } = dcmjsData as unknown as {
  DicomMetaDictionary: {
    denaturalizeDataset(dataset: Record<string, unknown>): DicomJson;
    naturalizeDataset(dataset: DicomJson): Record<string, unknown>;
  };
};

/** A dcmjs-dimse (naturalized) data set as DICOM JSON ('GGGGEEEE' -> { vr, Value }). */
export function toDicomJson(naturalized: Record<string, unknown>): DicomJson {
  const json = DicomMetaDictionary.denaturalizeDataset(naturalized);
  for (const element of Object.values(json)) redecodeValues(element);
  return json;
}

/** A Person Name value as its encoded string: component groups joined by '=' (PS3.5 6.2), trailing empty ones left out. */
function personNameString(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value ?? '');
  const groups = PN_GROUPS.map((group) => String((value as Record<string, unknown>)[group] ?? ''));
  return groups.join('=').replace(/=+$/, '');
}

/**
 * An Identifier in ISO 2022 code extensions (e.g. Specific Character Set `\ISO 2022 IR 87`): the
 * library reads it in the set of value 1 only, leaving escape sequences in the text, and splits its
 * values and component groups at bytes that may be halves of two-byte characters. The value is put
 * back together and decoded again, escape sequences honoured (PS3.5 6.1.2.5), then split.
 */
function redecodeValues(element: DicomJson[string]): void {
  if (element.vr === 'SQ') {
    // The items of a sequence key (Request Attributes Sequence, Referenced ... Sequence) alike.
    for (const item of element.Value ?? [])
      if (item && typeof item === 'object') for (const e of Object.values(item as DicomJson)) redecodeValues(e);
    return;
  }
  if (!CHARACTER_SET_VRS.has(element.vr) || !element.Value?.length) return;
  const encoded = element.Value.map((v) => (element.vr === 'PN' ? personNameString(v) : String(v ?? ''))).join('\\');
  const decoded = redecodeCodeExtensions(encoded, element.vr);
  if (decoded === undefined) return;
  const values = element.vr === 'LT' ? [decoded] : decoded.split('\\');
  element.Value = element.vr === 'PN' ? values.map(personName) : values;
}

/** DICOM JSON as a naturalized data set, as dcmjs-dimse's Dataset takes it. */
export function toNaturalized(json: DicomJson): Record<string, unknown> {
  return DicomMetaDictionary.naturalizeDataset(json);
}

/**
 * The key's value as a QIDO-RS query value: multiple values joined by '\\', a Person Name with its
 * component groups joined by '=' (a key of ideographic or phonetic groups matches those groups).
 */
export function keyValue(element: DicomJson[string] | undefined): string {
  const values = element?.Value ?? [];
  return values
    .map((v) => (v !== null && typeof v === 'object' ? personNameString(v) : String(v ?? '')))
    .join('\\')
    .trim();
}

/** The Query/Retrieve Level of an Identifier; A900 when it is missing or not one of the model's. */
export function queryRetrieveLevelOf(identifier: DicomJson, model: InformationModel): QueryRetrieveLevel {
  const value = keyValue(identifier[QRTag.QueryRetrieveLevel]).toUpperCase();
  const allowed: readonly QueryRetrieveLevel[] =
    model === 'PATIENT' ? ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'] : ['STUDY', 'SERIES', 'IMAGE'];
  if (!(allowed as readonly string[]).includes(value)) {
    throw new DimseStatusError(Status.IdentifierDoesNotMatchSOPClass, 'Query/Retrieve Level missing or not valid for the model', [
      QRTag.QueryRetrieveLevel,
    ]);
  }
  return value as QueryRetrieveLevel;
}

/**
 * A C-FIND Identifier as a search (PS3.4 C.4.1.2.1): keys with a value are matching keys, every key
 * is a return key. A malformed key value answers A900 with the key as Offending Element.
 */
export function findQueryOf(identifier: DicomJson, model: InformationModel): FindQuery {
  const queryLevel = queryRetrieveLevelOf(identifier, model);
  const level = LEVEL_OF[queryLevel];
  const matchable = matchableTags(level);
  const query = new Map<string, string[]>();
  const returnTags: string[] = [];
  const unsupportedKeys: string[] = [];
  for (const tag of Object.keys(identifier).sort()) {
    if (tag.startsWith('0002') || tag === QRTag.QueryRetrieveLevel) continue;
    returnTags.push(tag);
    const element = identifier[tag]!;
    if (NOT_MATCHED.has(tag)) continue;
    if (element.vr === 'SQ') {
      // Sequence matching (C.2.2.2.6) is not offered over DIMSE: the sequence is a return key only.
      if ((element.Value ?? []).some((item) => Object.values(item as DicomJson).some((e) => keyValue(e) !== ''))) unsupportedKeys.push(tag);
      continue;
    }
    const value = keyValue(element);
    if (value === '' || value === '*') continue; // universal matching, C.2.2.2.3
    const patientLevelOnly = queryLevel === 'PATIENT' && !PATIENT_KEYS.has(tag);
    if (!matchable.has(tag) || patientLevelOnly) {
      unsupportedKeys.push(tag);
      continue;
    }
    // C.2.2.2.2: a UID list is backslash-separated in DIMSE, comma-separated in QIDO-RS.
    query.set(tag, [vrOf(tag) === 'UI' ? value.split('\\').join(',') : dateTimeKey(vrOf(tag), value)]);
  }
  return { queryLevel, level, parameters: parse(query, level), returnTags, unsupportedKeys };
}

/**
 * A DA or TM key, or each end of its range, in the pre-V3.0 form PS3.5 6.2 recommends still reading
 * (YYYY.MM.DD, HH:MM:SS.frac), as the QIDO-RS form the search takes; any other key as it is.
 */
function dateTimeKey(vr: string | undefined, value: string): string {
  if (vr !== 'DA' && vr !== 'TM') return value;
  return value
    .split('-')
    .map((end) => normalizedDateTime(vr, end))
    .join('-');
}

export interface MoveQuery {
  readonly queryLevel: QueryRetrieveLevel;
  readonly level: Level;
  readonly parameters: SearchParameters;
}

/**
 * A C-MOVE Identifier as a search (PS3.4 C.4.2.2.1): the Unique Key of the level (and of the levels
 * above) selects the entities; PATIENT level moves every study of the Patient ID.
 */
export function moveQueryOf(identifier: DicomJson, model: InformationModel): MoveQuery {
  const queryLevel = queryRetrieveLevelOf(identifier, model);
  const uniqueKeys: Readonly<Record<QueryRetrieveLevel, readonly string[]>> = {
    PATIENT: [Tag.PatientID],
    STUDY: [Tag.PatientID, Tag.StudyInstanceUID],
    SERIES: [Tag.PatientID, Tag.StudyInstanceUID, Tag.SeriesInstanceUID],
    IMAGE: [Tag.PatientID, Tag.StudyInstanceUID, Tag.SeriesInstanceUID, Tag.SOPInstanceUID],
  };
  const ownKey = uniqueKeys[queryLevel][uniqueKeys[queryLevel].length - 1]!;
  const query = new Map<string, string[]>();
  for (const tag of uniqueKeys[queryLevel]) {
    const value = keyValue(identifier[tag]);
    if (value === '') continue;
    if (vrOf(tag) === 'UI' && !value.split('\\').every(isValidUid)) {
      throw new DimseStatusError(Status.IdentifierDoesNotMatchSOPClass, 'a Unique Key is not a valid UID (list)', [tag]);
    }
    query.set(tag, [vrOf(tag) === 'UI' ? value.split('\\').join(',') : value]);
  }
  if (!query.has(ownKey)) {
    throw new DimseStatusError(Status.IdentifierDoesNotMatchSOPClass, 'the Unique Key of the Query/Retrieve Level is missing', [ownKey]);
  }
  const level = LEVEL_OF[queryLevel];
  return { queryLevel, level, parameters: parse(query, level) };
}

function parse(query: ReadonlyMap<string, readonly string[]>, level: Level): SearchParameters {
  try {
    return parseSearchParameters(query, level, { ignoreIncludefield: true });
  } catch (error) {
    if (error instanceof BadRequestError) {
      const offending = error.details.map((d) => d.target).filter((t): t is string => t !== undefined);
      throw new DimseStatusError(Status.IdentifierDoesNotMatchSOPClass, 'a key value is not valid for its VR', offending);
    }
    throw error;
  }
}

/**
 * A C-FIND response Identifier (PS3.4 C.4.1.1.3.2): exactly the keys asked for, each with the
 * match's value or empty, plus the Query/Retrieve Level and the Retrieve AE Title.
 */
export function responseIdentifier(
  match: DicomJson,
  query: Pick<FindQuery, 'queryLevel' | 'returnTags'>,
  retrieveAETitle: string,
): DicomJson {
  const out: DicomJson = { [QRTag.QueryRetrieveLevel]: { vr: 'CS', Value: [query.queryLevel] } };
  for (const tag of query.returnTags) {
    if (tag === QRTag.RetrieveAETitle) out[tag] = { vr: 'AE', Value: [retrieveAETitle] };
    else out[tag] = match[tag] ?? { vr: vrOf(tag) ?? 'UN' };
  }
  // The library writes text as UTF-8: say so whenever it is not ASCII, also for a match stored without
  // a character set (its values read as ISO 8859-1), which a reader would take for the default repertoire.
  if (hasNonAsciiText(out)) out[Tag.SpecificCharacterSet] = { vr: 'CS', Value: [UTF8_TERM] };
  else {
    const stored = match[Tag.SpecificCharacterSet];
    if (stored) out[Tag.SpecificCharacterSet] = stored;
  }
  return out;
}

/**
 * PATIENT level (PS3.4 C.6.1.1.2): one match per Patient ID (and Issuer) from the study matches, with
 * the patient attributes and the Number of Patient Related Studies.
 */
export function patientsOf(studies: readonly DicomJson[]): DicomJson[] {
  const patients = new Map<string, { attributes: DicomJson; studies: number }>();
  for (const study of studies) {
    const key = `${keyValue(study[Tag.PatientID])}\u0000${keyValue(study[Tag.IssuerOfPatientID])}`;
    const known = patients.get(key);
    if (known) {
      known.studies++;
      continue;
    }
    const attributes: DicomJson = {};
    for (const tag of [...PATIENT_KEYS, Tag.SpecificCharacterSet]) if (study[tag]) attributes[tag] = study[tag]!;
    patients.set(key, { attributes, studies: 1 });
  }
  return [...patients.values()].map(({ attributes, studies }) => ({
    ...attributes,
    [QRTag.NumberOfPatientRelatedStudies]: { vr: 'IS', Value: [studies] },
  }));
}
