/**
 * Ports of the storage layer. Services in lambdas/dicomweb/ depend on these
 * interfaces only; adapters (s3.ts, dynamodb.ts) implement them over AWS SDK v3, which talks to
 * AWS or to the embedded emulators alike, and are built from the config in factory/ only. In-memory
 * adapters for unit tests live in test/support; every adapter passes its port's suite in test/contract/
 */
import type { DicomJson } from '../dicom/json';

export type { BlobStore, PutOptions, ReadLease, ReadOptions } from './blob-store';

export type Level = 'STUDY' | 'SERIES' | 'INSTANCE';

/**
 * One index entry. Study, series and instance entries all carry the DICOM JSON of their own level
 * plus the levels above (denormalised, so a relational search matches one item).
 */
export interface IndexEntry {
  readonly level: Level;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID?: string;
  readonly sopInstanceUID?: string;
  /** Attributes used for matching and returned by searches. */
  readonly attributes: DicomJson;
  /** Study Date (DA, YYYYMMDD) used as sort key of the date-ordered indexes; '' when absent. */
  readonly studyDate: string;
  /** Patient ID used by the patient index; '' when absent. */
  readonly patientId: string;
  /** Instance entries only. */
  readonly instance?: InstanceObject;
  /** Study: NumberOfStudyRelatedSeries / Instances; series: NumberOfSeriesRelatedInstances. */
  readonly relatedSeries?: number;
  readonly relatedInstances?: number;
  /** Study only: ModalitiesInStudy. */
  readonly modalities?: readonly string[];
}

/** The UIDs that address one instance of the Studies Service. */
export interface InstanceKey {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly sopInstanceUID: string;
}

export interface InstanceObject {
  readonly sopClassUID: string;
  readonly transferSyntaxUID: string;
  /** S3 key of the Part 10 file as received. */
  readonly objectKey: string;
  /** S3 key of the instance's DICOM JSON (BulkDataURI relative to the service root). */
  readonly metadataKey: string;
  readonly size: number;
  /** sha256 of the Part 10 bytes as stored, hex. */
  readonly digest: string;
  /**
   * sha256, hex, of the data set's canonical form (lambdas/dicom/data-set-digest.ts): the same for the
   * same data set whatever its File Meta Information or VR encoding; tells an identical re-store from
   * a conflicting one (sameContent). Absent on entries stored before it existed.
   */
  readonly datasetDigest?: string;
  readonly numberOfFrames: number;
  /**
   * Encapsulated Pixel Data without an offset table (PS3.5 A.4), found when stored: where each frame's
   * items start, from the first fragment, then where the last ends (NumberOfFrames + 1 entries), so
   * that a frame is read by range as with a Basic Offset Table (lambdas/dicom/frames/frame-offsets.ts).
   */
  readonly frameOffsets?: readonly number[];
}

/**
 * Whether two instance objects hold the same content: their data set digests when both carry one,
 * else their file digests (an entry without a data set digest was stored before it existed; its
 * reader judges it again from its object, see lambdas/dicomweb/store.ts).
 */
export function sameContent(a: InstanceObject | undefined, b: InstanceObject | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  if (a.datasetDigest !== undefined && b.datasetDigest !== undefined) return a.datasetDigest === b.datasetDigest;
  return a.digest === b.digest;
}

/** What names one entry of the index: its level and the UIDs down to it. */
export type EntryKeys = Pick<IndexEntry, 'level' | 'studyInstanceUID' | 'seriesInstanceUID' | 'sopInstanceUID'>;

/**
 * How a search reaches its candidates without a scan (docs/architecture.md, storage model).
 *
 * The 'patient', 'name' and 'level' paths yield in result order: the most recent Study Date first, entries
 * without one last, then by own UID, descending (their GSI sort keys "{studyDate}#{uid}" read
 * backwards; lambdas/dicomweb/search.ts `inResultOrder`), so a search that returns the first N
 * matches stops reading after them. Their `pageHint` is how many entries the caller expects to read
 * before it stops: it sizes the pages read from the index, never what is yielded (later pages follow
 * as they are read).
 */
export type IndexQuery =
  /** Entries of one level under one study (and series): a Query on the study partition. */
  | { readonly by: 'study'; readonly level: Level; readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }
  /** Entries whose own UID (Study/Series/SOP Instance UID) is one of these: GSI ByUid. */
  | { readonly by: 'uid'; readonly level: Level; readonly uids: readonly string[] }
  /** Entries of one level for one Patient ID, optionally within a study date range: GSI ByPatient, in result order. */
  | {
      readonly by: 'patient';
      readonly level: Level;
      readonly patientId: string;
      readonly dateRange?: DateRange;
      readonly pageHint?: number;
    }
  /**
   * Entries of one level with a Patient's Name index term (personNameIndexTerms of
   * lambdas/dicomweb/matching.ts) starting with `prefix`, optionally within a study date range, in
   * result order: GSI ByLevel, name partitions. A superset of the matches, never fewer.
   */
  | { readonly by: 'name'; readonly level: Level; readonly prefix: string; readonly dateRange?: DateRange; readonly pageHint?: number }
  /** All entries of one level, optionally within a study date range: GSI ByLevel (sharded), in result order. */
  | { readonly by: 'level'; readonly level: Level; readonly dateRange?: DateRange; readonly pageHint?: number };

/** Inclusive range of DA values (YYYYMMDD); an open end is undefined. */
export interface DateRange {
  readonly from?: string;
  readonly to?: string;
}

export type PutInstanceOutcome =
  /** A new instance entry was written. */
  | { readonly outcome: 'created' }
  /** The same SOP Instance UID exists in the same study and series with the same content (sameContent). */
  | { readonly outcome: 'identical'; readonly existing: IndexEntry }
  /** The SOP Instance UID exists with other content or under another study/series. */
  | { readonly outcome: 'conflict'; readonly existing: IndexEntry };

export interface Tombstone {
  readonly level: Level;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID?: string;
  readonly sopInstanceUID?: string;
  readonly deletedAt: string;
}

/**
 * A Delete of a study or series under way (lambdas/dicomweb/delete.ts): written before anything is
 * removed and removed last, so a Delete cut short is found and resumed, and a Store into the resource
 * meanwhile is refused.
 */
export interface DeleteJob {
  readonly level: 'STUDY' | 'SERIES';
  readonly studyInstanceUID: string;
  /** SERIES only. */
  readonly seriesInstanceUID?: string;
  /** ISO 8601 time the Delete was accepted. */
  readonly startedAt: string;
}

export interface MetadataIndex {
  /**
   * Writes the instance entry unless its key is taken (conditional put on study/series/SOP), and
   * compares with the entry holding the key if so. A SOP Instance UID names one instance across the
   * archive (PS3.3 C.12.1.1.1): the caller looks it up (`query` by uid) before writing anything, as
   * that lookup also keeps the S3 objects of an existing instance from being overwritten; this put
   * does not repeat it. Only a 'created' outcome lets the caller bump counters.
   */
  putInstance(entry: IndexEntry): Promise<PutInstanceOutcome>;
  /** Creates the series entry if missing; true when this call created it. */
  ensureSeries(entry: IndexEntry): Promise<boolean>;
  /** Creates the study entry if missing; true when this call created it. */
  ensureStudy(entry: IndexEntry): Promise<boolean>;
  /** Atomic ADD of counters and modalities (PS3.18 NumberOf... attributes, ModalitiesInStudy). */
  addStudyCounters(studyInstanceUID: string, delta: { series?: number; instances?: number; modalities?: readonly string[] }): Promise<void>;
  addSeriesCounters(studyInstanceUID: string, seriesInstanceUID: string, delta: { instances: number }): Promise<void>;
  /** Removes modalities from the study's ModalitiesInStudy (a series holding them was deleted). */
  removeStudyModalities(studyInstanceUID: string, modalities: readonly string[]): Promise<void>;

  getStudy(studyInstanceUID: string): Promise<IndexEntry | undefined>;
  getSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<IndexEntry | undefined>;
  getInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): Promise<IndexEntry | undefined>;
  /**
   * Entries of any level by their UIDs, in the order asked, undefined where none is indexed: one
   * batched read (BatchGetItem) rather than one round trip per entry.
   */
  getEntries(keys: readonly EntryKeys[]): Promise<(IndexEntry | undefined)[]>;
  /** Candidates for a search, page by page; never a table scan. */
  query(q: IndexQuery): AsyncIterable<IndexEntry>;

  /** Removes one entry (study, series or instance) by its keys. */
  deleteEntry(entry: Pick<IndexEntry, 'level' | 'studyInstanceUID' | 'seriesInstanceUID' | 'sopInstanceUID'>): Promise<void>;
  putTombstone(t: Tombstone): Promise<void>;
  /** The tombstone of this resource or of the series/study above it, if any (410 Gone). */
  findTombstone(t: Omit<Tombstone, 'deletedAt'>): Promise<Tombstone | undefined>;
  /** Removes the tombstones of these instances and of their series and studies: a re-store revives them. */
  clearTombstones(instances: readonly InstanceKey[]): Promise<void>;

  /** Writes the Delete job unless one exists for the resource; true when this call wrote it. */
  startDeleteJob(job: DeleteJob): Promise<boolean>;
  /** The Delete job of the study, else of the series when one is given. */
  findDeleteJob(uids: { readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }): Promise<DeleteJob | undefined>;
  endDeleteJob(job: Omit<DeleteJob, 'startedAt'>): Promise<void>;
  /**
   * What a Store checks before it writes into a series, read at once and strongly consistent: the
   * Delete job findDeleteJob finds for the series, the study entry (getStudy) and the series entry
   * (getSeries); each absent when there is none.
   */
  findSeriesForStore(
    uids: SeriesUids,
  ): Promise<{ readonly deleteJob?: DeleteJob; readonly study?: IndexEntry; readonly series?: IndexEntry }>;
}

/** A series by its UIDs. */
export interface SeriesUids {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
}

/**
 * One Non-Patient Instance (PS3.18 12) in the index: item NPI#{category} / INSTANCE#{sop}, apart from
 * the patient studies and outside every Studies index (docs/architecture.md).
 */
export interface NpiEntry {
  /** The {npi-name} of the category (lambdas/dicomweb/npi-categories.ts). */
  readonly category: string;
  readonly sopInstanceUID: string;
  /** The category's matching keys and return attributes, as DICOM JSON. */
  readonly attributes: DicomJson;
  readonly instance: InstanceObject;
}

export type PutNpiOutcome =
  | { readonly outcome: 'created' }
  /** The same SOP Instance UID is indexed in the category with the same content (sameContent). */
  | { readonly outcome: 'identical'; readonly existing: NpiEntry }
  | { readonly outcome: 'conflict'; readonly existing: NpiEntry };

/** Index of Non-Patient Instances: one partition per category; a search is a Query on it. */
export interface NpiIndex {
  /** Conditional put: never overwrites an indexed SOP Instance UID. */
  putInstance(entry: NpiEntry): Promise<PutNpiOutcome>;
  getInstance(category: string, sopInstanceUID: string): Promise<NpiEntry | undefined>;
  /** Every entry of the category, page by page; never a table scan. */
  query(category: string): AsyncIterable<NpiEntry>;
}

/** Progress of a send request (Supplement 248 10.X): PENDING until Finalize or Fail ends it. */
export type SendRequestState = 'PENDING' | 'COMPLETED' | 'FAILED';

/** The resource a Send transaction targets (Table 10.X.1-1): its level and the UIDs of its path. */
export interface SendTarget {
  readonly level: Level;
  readonly studyInstanceUID?: string;
  readonly seriesInstanceUID?: string;
  /** The {npi-name} of a Send on /{npi-name}/send-requests (Sup 248 12.X); level is then INSTANCE. */
  readonly npi?: string;
}

/** A send request as the archive tracks it: item SEND#{transactionUID} / #SEND (docs/architecture.md). */
export interface SendRequestRecord {
  readonly transactionUID: string;
  readonly target: SendTarget;
  /** The search parameters as given, without destination (QIDO-RS syntax; includefield ignored). */
  readonly search: readonly (readonly [string, string])[];
  /** The destination URL as requested; credentials stay in the registry. */
  readonly destination: string;
  readonly state: SendRequestState;
  /** Unset until Resolve has counted the matches (PS3.4 C.4.2.3.1.1.4). */
  readonly remaining?: number;
  readonly completed: number;
  readonly failed: number;
  readonly warning: number;
  /** Final Status (0000,0900) once state is not PENDING: 0000, B000, A701 or A702. */
  readonly status?: number;
  /** Workflow execution (Step Functions execution ARN, or the embedded runtime's id). */
  readonly executionId?: string;
  /** ISO 8601 creation time. */
  readonly createdAt: string;
  /** Epoch seconds after which Check Send Result answers 410 Gone. */
  readonly expiresAt: number;
  /** Epoch seconds at which the item itself may be deleted (DynamoDB TTL); until then 410, after 404. */
  readonly deleteAt: number;
  /**
   * Failed SOP Instance UIDs kept in the item itself by releases that had no batch outcome objects,
   * read so that a request finished before an upgrade still answers its list until it expires.
   */
  readonly itemFailedSOPInstanceUIDs?: readonly string[];
}

export interface SendCountersDelta {
  readonly completed: number;
  readonly warning: number;
  readonly failed: number;
}

/** One Deliver batch as counted: its id (lambdas/send/outcomes.ts batchIdOf) and its counters. */
export interface SendBatchRecord extends SendCountersDelta {
  readonly batchId: string;
}

/**
 * A SendRequestStore call named a send request that does not exist: a fault of the workflow, never
 * of user input (the Send's handler creates the item before it starts the workflow).
 */
export class SendRequestNotFoundError extends Error {
  constructor(transactionUID: string) {
    super(`send request ${transactionUID} does not exist`);
  }
}

export interface SendRequestStore {
  /** Conditional put; false when the Transaction UID is already in use (409). */
  create(record: SendRequestRecord): Promise<boolean>;
  get(transactionUID: string): Promise<SendRequestRecord | undefined>;
  /** Throws SendRequestNotFoundError when there is no such send request. */
  setExecution(transactionUID: string, executionId: string): Promise<void>;
  /** Resolve: sets Remaining to the number of matches, once, while PENDING. False when already set or not pending. */
  setMatched(transactionUID: string, matched: number): Promise<boolean>;
  /**
   * Deliver: counts batch `batchId` once: Remaining -= its sub-operations, its counters added; only
   * while PENDING (a batch finishing after Fail changes nothing). The first outcome recorded for a
   * batch stands: a Deliver run again for it (a retry) changes nothing. False when not pending.
   */
  addBatchOutcome(transactionUID: string, batch: SendBatchRecord): Promise<boolean>;
  /** The batch as recorded by addBatchOutcome, or undefined when it has not been. */
  batchOutcome(transactionUID: string, batchId: string): Promise<SendBatchRecord | undefined>;
  /** Every batch recorded for the request (the Failed SOP Instance UID List is assembled from them). */
  batchOutcomes(transactionUID: string): Promise<SendBatchRecord[]>;
  /**
   * Finalize / Fail: ends the request with its final Status. With failRemaining, what is still
   * Remaining is counted as Failed (Remaining becomes 0). Returns the record as stored afterwards.
   */
  finish(
    transactionUID: string,
    outcome: { readonly state: 'COMPLETED' | 'FAILED'; readonly status: number; readonly failRemaining?: boolean },
  ): Promise<SendRequestRecord>;
}

export type ExecutionState = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Starts and observes Send workflow executions (Step Functions, or aws-local-stepfunctions embedded). */
export interface SendWorkflow {
  /**
   * Starts the execution; throws StorageUnavailableError when the workflow service cannot start it,
   * AlreadyExistsError when an execution for the Transaction UID runs with another input.
   */
  start(input: { readonly transactionUID: string; readonly destination: string }): Promise<string>;
  /** The execution's state, undefined when unknown. */
  describe(executionId: string): Promise<ExecutionState | undefined>;
  /**
   * Resolves (never rejects) once the execution has ended, for a runtime that can tell: the embedded
   * one runs it in-process. Without it (Step Functions), Send's bounded wait polls the request.
   */
  settled?(executionId: string): Promise<void>;
}

/**
 * What a destination registry source (storage/destinations.ts) needs to know of the registry's format,
 * which is the Send layer's (lambdas/send/destinations.ts).
 */
export interface RegistryFormat<R> {
  /** The registry a JSON document holds; throws the format's error when it holds none. */
  parse(json: unknown): R;
  /** The error of a document that is not JSON at all; `message` never quotes the document. */
  invalid(message: string): Error;
  /** The registry of a file that does not exist. */
  readonly empty: R;
}

/** A registry, read again when it may have changed. */
export interface RegistrySource<R> {
  /** The current registry; throws the format's error when it is malformed. */
  load(): Promise<R>;
}

/**
 * A machine client that cannot do OAuth (a PACS, a modality behind a router) and authenticates with an
 * API key (lambdas/auth/api-keys.ts). Only the SHA-256 of the key's secret is kept: a stolen table
 * gives no usable key.
 */
export interface ApiClient {
  /** The key's public identifier, the middle part of the key (`dwk_<id>_<secret>`). */
  readonly id: string;
  /** What the operator called it (e.g. "radiology-pacs"); the Basic user name of HTTP Basic. */
  readonly name: string;
  /** The scopes it holds (lambdas/auth/scopes.ts names). */
  readonly scopes: readonly string[];
  /** Hex SHA-256 of the key's secret part. */
  readonly secretHash: string;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** ISO 8601 UTC, once revoked: a revoked key authenticates no request. */
  readonly revokedAt?: string;
}

/** The API key clients (docs/security.md). */
export interface ClientStore {
  /** Records a new client; AlreadyExistsError when its id is taken. */
  create(client: ApiClient): Promise<void>;
  get(id: string): Promise<ApiClient | undefined>;
  /** Every client, revoked ones included, oldest first. */
  list(): Promise<ApiClient[]>;
  /** Marks the client revoked at `at`; false when there is no such client. Revoking twice keeps the first time. */
  revoke(id: string, at: string): Promise<boolean>;
}

export type { ShareLink, ShareLinkStore } from './share-link-store';
export type { DirectTransfer, UploadedPart } from './direct-transfer';
export type { UploadRecord, UploadState, UploadStore } from './upload-store';
