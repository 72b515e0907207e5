/**
 * The DynamoDB table's keys and global secondary indexes, shared by the CDK storage construct and the
 * embedded runtime's CreateTable, so both create the same table.
 *
 * Items (docs/architecture.md, storage model):
 *   study     PK STUDY#{study}  SK #STUDY
 *   series    PK STUDY#{study}  SK SERIES#{series}
 *   instance  PK STUDY#{study}  SK INSTANCE#{series}#{sop}
 *   tombstone PK STUDY#{study}  SK TOMBSTONE#{level}#{uids}
 *   name term PK STUDY#{study}  SK NAME#{level}#{uids below the study}#{term}   one per Patient's Name
 *             index term of a study, series or instance entry (written before it, deleted after it)
 *   send      PK SEND#{transactionUID}  SK #SEND
 *   marker    PK #SCHEMA  SK NAME-TERMS   every entry has its name terms (written by the backfill)
 *
 * GSIs (every search resource is a Query on the table or one of these, never a Scan):
 *   ByUid      UID#{own UID}                 / {level}                 series and SOP UID lookups
 *   ByLevel    {level}#{shard}               / {studyDate}#{own UID}   all studies/series/instances,
 *                                                                     sharded so no partition is hot
 *              NAME#{level}#{first character of term}#{shard} / {term}#{own UID}   name term items:
 *                                                                     PatientName searches (begins_with);
 *                                                                     shard 0 only for studies and series
 *   marker    PK #SCHEMA  SK NAME-TERMS#2
 *   ByPatient  PATIENT#{patientId}           / {level}#{studyDate}#{own UID}
 *
 * The name terms share ByLevel's key attributes (GSI overloading) rather than taking a GSI of their
 * own: their partitions never meet the level partitions, and a table that predates them needs no
 * new index (dynalite cannot add one to an existing table, DynamoDB builds one for hours), only
 * their items, which DynamoMetadataIndex.ensureNameTerms writes.
 */

export const TABLE_PARTITION_KEY = 'PK';
export const TABLE_SORT_KEY = 'SK';

/**
 * What a GSI copies of an item besides the table and index keys (which every projection holds).
 * KEYS_ONLY: a Query answers table keys, and the adapter reads the entries by key (BatchGetItem);
 * INCLUDE: those attributes too.
 */
export type GsiProjection = { readonly type: 'KEYS_ONLY' } | { readonly type: 'INCLUDE'; readonly nonKeyAttributes: readonly string[] };

export interface GsiSpec {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly projection: GsiProjection;
}

/**
 * Projections: no query path reads an entry's attributes from a GSI. The search services match on
 * the DICOM JSON of the entry (one `Attributes` string, most of the item: it cannot be projected in part), and
 * store, delete and send need the whole entry, so the adapter reads the entries by table key after
 * the Query, in result order (dynamodb.ts); a GSI copy then costs one write unit, not one per KB of
 * the entry. ByLevel also holds the name term items, read from the index alone: their entry's level,
 * UIDs and Study Date (the date filter and result order) are included; on a level entry they are
 * ~150 bytes, still one write unit.
 */
export const GSI_BY_UID: GsiSpec = {
  indexName: 'ByUid',
  partitionKey: 'UidPK',
  sortKey: 'UidSK',
  projection: { type: 'KEYS_ONLY' },
};
export const GSI_BY_LEVEL: GsiSpec = {
  indexName: 'ByLevel',
  partitionKey: 'LevelPK',
  sortKey: 'LevelSK',
  projection: { type: 'INCLUDE', nonKeyAttributes: ['Level', 'StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'StudyDate'] },
};
export const GSI_BY_PATIENT: GsiSpec = {
  indexName: 'ByPatient',
  partitionKey: 'PatientPK',
  sortKey: 'PatientSK',
  projection: { type: 'KEYS_ONLY' },
};

export const GLOBAL_SECONDARY_INDEXES: readonly GsiSpec[] = [GSI_BY_UID, GSI_BY_LEVEL, GSI_BY_PATIENT];

/** Attribute holding the epoch-seconds expiry of send requests (DynamoDB TTL in AWS). */
export const TTL_ATTRIBUTE = 'ExpiresAt';
