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

export interface GsiSpec {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

export const GSI_BY_UID: GsiSpec = { indexName: 'ByUid', partitionKey: 'UidPK', sortKey: 'UidSK' };
export const GSI_BY_LEVEL: GsiSpec = { indexName: 'ByLevel', partitionKey: 'LevelPK', sortKey: 'LevelSK' };
export const GSI_BY_PATIENT: GsiSpec = { indexName: 'ByPatient', partitionKey: 'PatientPK', sortKey: 'PatientSK' };

export const GLOBAL_SECONDARY_INDEXES: readonly GsiSpec[] = [GSI_BY_UID, GSI_BY_LEVEL, GSI_BY_PATIENT];

/** Attribute holding the epoch-seconds expiry of send requests (DynamoDB TTL in AWS). */
export const TTL_ATTRIBUTE = 'ExpiresAt';
