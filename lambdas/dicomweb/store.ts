/**
 * Store Transaction (STOW-RS), PS3.18 10.5, answering with the Store Instances Response Module
 * (PS3.18 10.5.3, Table 10.5.3-1) and the Failure/Warning Reasons of PS3.2 J.4.2.
 *
 * The body is read part by part while the instances are stored (storeRequestParts): memory holds a
 * few instances, however many the request carries.
 *
 * Write order (docs/architecture.md) keeps every crash state harmless: study and series entries first (a study
 * with no instance yet is visible but empty), then the Part 10 object and its metadata in S3, then the
 * instance entry with a conditional put; only the writer that created the instance entry bumps the
 * counters, once per series and study when the request ends (StoreBookkeeping; a crash before that
 * leaves them short by what the request had created, its new series included: the entries and objects themselves are complete). Nothing already
 * stored is overwritten: an existing SOP Instance UID is looked up once, before any write, and each
 * write goes to object keys of its own (lambdas/storage/keys.ts objectVersion), so a writer racing
 * past the lookup on another function never replaces the bytes an entry names; the conditional put
 * decides, and the loser deletes the objects it wrote.
 *
 * Round trips per new instance: the SOP Instance UID lookup, the two S3 puts (together) and the
 * conditional put with its name terms. Per series of a request: the Delete job check with the study
 * and series entries (one read, findSeriesForStore: a study or series being deleted takes no
 * instance, Failure Reason 0110), the ensure of each of the two not yet indexed, and
 * the counters (a created series counted in its study with the instances). Per 25 instances: one
 * tombstone clean-up. docs/performance.md, "AWS calls per instance", has the counts.
 *
 * The lookup is not there for the objects: their keys are this write's own (objectVersion), so no
 * write can replace an existing instance's bytes, and the conditional put alone refuses a second
 * entry under the same study, series and SOP Instance UID. It stays for what the conditional put
 * cannot see: the same SOP Instance UID under another study or series (PS3.3 C.12.1.1.1, one UID
 * names one instance across the archive; Failure Reason 0111), and it spares a duplicate's S3 puts.
 */
import { isValidUid } from '../dicom/uid';
import type { RequestBody } from './messages';
import type { BlobStore, IndexEntry, InstanceKey, MetadataIndex } from '../storage/ports';
import type { DicomJson } from '../dicom/json';
import { BadRequestError } from './errors';
import { FailureReason } from './status-codes';
import { holdsSameDataSet } from './stored-content';
import {
  prepareInstance,
  type Failed,
  type InstancePreparer,
  type InstanceUids,
  type Preparation,
  type PreparedInstance,
} from './store-prepare';
import { storeRequestParts, type PartBuffers } from './store-request';
import { absolute, instancePath } from './uris';

export type { Failed } from './store-prepare';

const DICOM = 'application/dicom';
/** An instance's objects are at keys of this write's own, named by no entry until putInstance (ports.ts PutOptions). */
const FRESH = { fresh: true } as const;
/** And the body is the put's to keep (ports.ts PutOptions): a preparer's copy, which nothing reads after. */
const FRESH_DONATED = { fresh: true, donated: true } as const;

/**
 * Duplicate SOP Instance (PS3.7 C.4.? N-CREATE 0x0111), used as an additional Failure Reason (PS3.2
 * J.4.2 allows additional codes): the SOP Instance UID is already stored with other content or
 * under another study or series.
 */
export const DuplicateSOPInstance = 0x0111;

export interface StoreRequest {
  /** Target study of POST /studies/{study}; undefined for POST /studies. */
  readonly studyInstanceUID?: string;
  readonly contentType: string | undefined;
  /** Read part by part while the instances are stored, never whole. */
  readonly body: RequestBody;
  readonly baseUrl: string;
  /** Milliseconds the function has left (the Lambda context's); unbounded when absent. */
  readonly remainingMillis?: () => number;
}

export interface Referenced {
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  readonly retrieveUrl: string;
  readonly warningReason?: number;
}
export interface StoreResult {
  /** 200 all stored; 202 some failed or carry warnings; 409 none stored (PS3.18 10.5.3.1). */
  readonly status: 200 | 202 | 409;
  /** Store Instances Response Module as DICOM JSON. */
  readonly response: DicomJson;
  readonly stored: number;
  readonly failed: number;
  /** Warning header field (PS3.18 8.4.5) saying why the request was not read to its end, if it was not. */
  readonly warning?: string;
}

/** How one instance ended: stored (possibly with a Warning Reason) or not (with its Failure Reason). */
export type StoreOutcome = { readonly referenced: Referenced } | { readonly failed: Failed };

/** Where an instance is stored: the target study of POST /studies/{study} (if any), and the base URL. */
export type StoreTarget = Pick<StoreRequest, 'studyInstanceUID' | 'baseUrl'> & {
  /**
   * Study and series entries already ensured by this request, keyed `{study}/{series}`: the instances
   * of one request share one ensure (two conditional puts) per series.
   */
  readonly ensured?: Map<string, Promise<boolean>>;
  /**
   * What the request's created instances still need once it ends: counters and tombstone clean-up,
   * written together when the request ends; without one, each instance writes its own.
   */
  readonly bookkeeping?: StoreBookkeeping;
};

/**
 * What one Store request adds to NumberOfSeriesRelatedInstances, NumberOfStudyRelatedInstances and
 * ModalitiesInStudy (PS3.18 10.6.3.3), and the tombstones its instances revive. Only instances whose
 * entry this request created count (docs/architecture.md: only the writer that created the instance
 * item bumps the counters). Written when the request ends, so the writes follow the series, not the
 * instances: two ADDs per series and study, one BatchWriteItem per 25 tombstones. A tombstone only answers for an entry that is
 * missing (410 Gone), so clearing it after the entry exists is invisible to readers.
 */
export class StoreBookkeeping {
  private readonly series = new Map<string, { studyInstanceUID: string; seriesInstanceUID: string; instances: number }>();
  private readonly studies = new Map<string, { series: number; instances: number; modalities: Set<string> }>();
  private readonly created: InstanceKey[] = [];

  /** A series this request created: counted in its study with the request's instances. */
  addSeries(studyInstanceUID: string): void {
    this.study(studyInstanceUID).series++;
  }

  add(created: InstanceKey, modality: string | undefined): void {
    const { studyInstanceUID, seriesInstanceUID } = created;
    const seriesKey = `${studyInstanceUID}/${seriesInstanceUID}`;
    const series = this.series.get(seriesKey) ?? { studyInstanceUID, seriesInstanceUID, instances: 0 };
    series.instances++;
    this.series.set(seriesKey, series);
    const study = this.study(studyInstanceUID);
    study.instances++;
    if (modality) study.modalities.add(modality);
    this.created.push(created);
  }

  private study(studyInstanceUID: string) {
    let study = this.studies.get(studyInstanceUID);
    if (!study) this.studies.set(studyInstanceUID, (study = { series: 0, instances: 0, modalities: new Set<string>() }));
    return study;
  }

  /** Writes the counters (atomic ADDs) and clears the tombstones, then starts over. */
  async flush(index: MetadataIndex): Promise<void> {
    const series = [...this.series.values()];
    const studies = [...this.studies.entries()];
    const created = this.created.splice(0);
    this.series.clear();
    this.studies.clear();
    await Promise.all([
      ...series.map((s) => index.addSeriesCounters(s.studyInstanceUID, s.seriesInstanceUID, { instances: s.instances })),
      ...studies.map(([studyInstanceUID, s]) =>
        index.addStudyCounters(studyInstanceUID, { series: s.series, instances: s.instances, modalities: [...s.modalities] }),
      ),
      ...(created.length > 0 ? [index.clearTombstones(created)] : []),
    ]);
  }
}

/** Instances of one Store request stored at once. */
const STORE_CONCURRENCY = 4;

export class StoreService {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /** Where instances are read and prepared (store-prepare.ts): inline unless another preparer is given. */
  private readonly prepare: InstancePreparer;

  constructor(
    private readonly index: MetadataIndex,
    private readonly blobs: BlobStore,
    private readonly opts: { readonly bulkDataThreshold: number; readonly maxRequestBytes: number },
    prepare?: InstancePreparer,
    /** Where the parts of a request are assembled (store-request.ts PartBuffers); new memory when absent. */
    private readonly partBuffers?: PartBuffers,
  ) {
    this.prepare = prepare ?? (async (part10) => prepareInstance(part10, opts.bulkDataThreshold));
  }

  /** Store Instances, PS3.18 10.5. */
  async storeInstances(req: StoreRequest): Promise<StoreResult> {
    if (req.studyInstanceUID !== undefined && !isValidUid(req.studyInstanceUID)) {
      throw new BadRequestError(`"${req.studyInstanceUID}" is not a valid Study Instance UID`, [
        { target: 'study', message: 'a UID is at most 64 characters of digits and dots (PS3.5 9.1)' },
      ]);
    }
    const target: StoreTarget = {
      studyInstanceUID: req.studyInstanceUID,
      baseUrl: req.baseUrl,
      ensured: new Map(),
      bookkeeping: new StoreBookkeeping(),
    };
    try {
      // A few instances at a time (their round trips to S3 and DynamoDB overlap).
      return await storeRequestParts(
        req,
        this.opts.maxRequestBytes,
        STORE_CONCURRENCY,
        target,
        (part10) => this.storeInstance(part10, target),
        this.partBuffers,
      );
    } finally {
      // Also when a part failed the request: what was created stays created, and is counted.
      await target.bookkeeping!.flush(this.index);
    }
  }

  /**
   * Stores one Part 10 instance: the per-instance rules shared by STOW-RS (each part of the multipart
   * body) and the DIMSE gateway's C-STORE SCP (each C-STORE request), so both validate, index and
   * treat duplicates alike. Returns the instance's outcome with the Failure or Warning Reason of
   * PS3.2 J.4.2 instead of throwing for what the instance holds.
   */
  async storeInstance(part10: Uint8Array, target: StoreTarget): Promise<StoreOutcome> {
    const preparation = await this.prepare(part10);
    // The preparer's copy, when it made one, is given to the put (store-prepare.ts InstancePreparer).
    const { copy } = preparation;
    const write = copy
      ? (objectKey: string) => this.blobs.put(objectKey, copy, DICOM, FRESH_DONATED)
      : (objectKey: string) => this.blobs.put(objectKey, part10, DICOM, FRESH);
    return this.storePrepared(preparation, target, write);
  }

  /**
   * Stores one prepared instance whose Part 10 object is in storage already, at `sourceKey` (an
   * upload's joined parts, docs/uploads.md): the same rules as storeInstance, the object copied to the
   * instance's key instead of put, never read into memory.
   */
  storeObject(preparation: Preparation, sourceKey: string, target: StoreTarget): Promise<StoreOutcome> {
    return this.storePrepared(preparation, target, (objectKey) => this.blobs.copy(sourceKey, objectKey, DICOM, FRESH));
  }

  /** The Store rules of one prepared instance; `writeObject` puts its Part 10 object at the key given. */
  private async storePrepared(
    preparation: Preparation,
    target: StoreTarget,
    writeObject: (objectKey: string) => Promise<void>,
  ): Promise<StoreOutcome> {
    if ('failed' in preparation) return preparation;
    const instance = preparation.prepared;
    const { sopClassUID, sopInstanceUID, studyInstanceUID, seriesInstanceUID, digests, entries } = instance;
    const fail = (failureReason: number): StoreOutcome => ({ failed: { sopClassUID, sopInstanceUID, failureReason } });

    // PS3.18 10.5.1.1: instances of POST /studies/{study} must belong to that study.
    if (target.studyInstanceUID !== undefined && studyInstanceUID !== target.studyInstanceUID) {
      return fail(FailureReason.DataSetDoesNotMatchSOPClass);
    }

    // Two copies of one SOP Instance in flight at once (in one request, or in concurrent ones on this
    // process) are stored one after the other, so the second sees the first and nothing is overwritten.
    return this.exclusive(sopInstanceUID, async () => {
      // The same data set under the same UIDs, from any sender (stored-content.ts), is the same instance.
      const sameInstance = async (existing: IndexEntry) =>
        existing.studyInstanceUID === studyInstanceUID &&
        existing.seriesInstanceUID === seriesInstanceUID &&
        (await holdsSameDataSet(this.blobs, existing.instance, digests));
      const existing = await this.findExisting(sopInstanceUID);
      if (existing) {
        // An identical re-store succeeds without writing anything again: the first file stays.
        return (await sameInstance(existing)) ? referenced(instance, target.baseUrl) : fail(DuplicateSOPInstance);
      }
      const { objectKey, metadataKey } = entries.instance.instance!;

      // A study or series being deleted takes no instance until its Delete has ended (delete.ts).
      if (await this.ensureStudyAndSeries(entries, target.ensured, target.bookkeeping)) return fail(FailureReason.ProcessingFailure);
      // Both objects are in S3 before the instance entry names them.
      await Promise.all([
        writeObject(objectKey),
        this.blobs.put(metadataKey, Buffer.from(instance.metadataJson), 'application/dicom+json', FRESH),
      ]);

      const put = await this.index.putInstance(entries.instance);
      if (put.outcome === 'created') {
        const bookkeeping = target.bookkeeping ?? new StoreBookkeeping();
        bookkeeping.add({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }, instance.modality);
        if (!target.bookkeeping) await bookkeeping.flush(this.index);
        return referenced(instance, target.baseUrl);
      }
      // A concurrent writer won the conditional put: identical content is a success, other content a
      // failure. Either way the entry names the winner's objects, so this write's are unreferenced.
      await this.removeUnreferenced([objectKey, metadataKey]);
      // The index judges the winner's content by its digests; one without a data set digest is judged here.
      const same = put.outcome === 'identical' || (await sameInstance(put.existing));
      return same ? referenced(instance, target.baseUrl) : fail(DuplicateSOPInstance);
    });
  }

  /**
   * The study entry, then the series entry (counted in the study when this call created it): the
   * study exists before the series' counter is added to it, as counters only update entries. True,
   * and nothing written, when the study or series is being deleted.
   */
  private ensureStudyAndSeries(
    entries: PreparedInstance['entries'],
    ensured?: Map<string, Promise<boolean>>,
    bookkeeping?: StoreBookkeeping,
  ): Promise<boolean> {
    const { studyInstanceUID, seriesInstanceUID } = entries.series;
    const key = `${studyInstanceUID}/${seriesInstanceUID}`;
    const known = ensured?.get(key);
    if (known) return known;
    const ensure = (async () => {
      // buildIndexEntries gives the series entry its Series Instance UID.
      const { deleteJob, study, series } = await this.index.findSeriesForStore({
        studyInstanceUID,
        seriesInstanceUID: seriesInstanceUID!,
      });
      if (deleteJob) return true;
      // An entry is written after its name terms, and a series after its study, which a Delete removes
      // last: an indexed entry needs no ensure, and an indexed series proves its study.
      if (series) return false;
      if (!study) await this.index.ensureStudy(entries.study);
      if (await this.index.ensureSeries(entries.series)) {
        if (bookkeeping) bookkeeping.addSeries(studyInstanceUID);
        else await this.index.addStudyCounters(studyInstanceUID, { series: 1 });
      }
      return false;
    })();
    ensured?.set(key, ensure);
    return ensure;
  }

  /**
   * Best effort: the objects of a write that lost the conditional put. Their keys are this write's
   * alone, so no entry names them; one left behind (a failed delete, a crash before it) is unreachable
   * and costs only its storage, as any object of a write that crashed before its conditional put.
   */
  private async removeUnreferenced(keys: readonly string[]): Promise<void> {
    try {
      await this.blobs.delete(keys);
    } catch {
      // Unreferenced either way: the answer does not depend on it.
    }
  }

  /** Runs `fn` after every earlier call for the same key has settled. */
  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    this.inFlight.set(key, run);
    try {
      return await run;
    } finally {
      if (this.inFlight.get(key) === run) this.inFlight.delete(key);
    }
  }

  private async findExisting(sopInstanceUID: string) {
    for await (const entry of this.index.query({ by: 'uid', level: 'INSTANCE', uids: [sopInstanceUID] })) return entry;
    return undefined;
  }
}

function referenced(instance: InstanceUids, baseUrl: string): StoreOutcome {
  return {
    referenced: {
      sopClassUID: instance.sopClassUID,
      sopInstanceUID: instance.sopInstanceUID,
      retrieveUrl: absolute(baseUrl, instancePath(instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID)),
    },
  };
}
