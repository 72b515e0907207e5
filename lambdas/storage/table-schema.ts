/**
 * The DynamoDB table's keys and global secondary indexes, shared by the CDK storage construct and the
 * embedded runtime's CreateTable, so both create the same table.
 *
 * Items (DESIGN.md, storage model):
 *   study     PK STUDY#{study}  SK #STUDY
 *   series    PK STUDY#{study}  SK SERIES#{series}
 *   instance  PK STUDY#{study}  SK INSTANCE#{series}#{sop}
 *   tombstone PK STUDY#{study}  SK TOMBSTONE#{level}#{uids}
 *   send      PK SEND#{transactionUID}  SK #SEND
 *
 * GSIs (every search resource is a Query on the table or one of these, never a Scan):
 *   ByUid      UID#{own UID}                 / {level}                 series and SOP UID lookups
 *   ByLevel    {level}#{shard}               / {studyDate}#{own UID}   all studies/series/instances,
 *                                                                     sharded so no partition is hot
 *   ByPatient  PATIENT#{patientId}           / {level}#{studyDate}#{own UID}
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
