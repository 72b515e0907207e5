/**
 * In-memory MetadataIndex with the semantics of the DynamoDB adapter (lambdas/storage/dynamodb.ts):
 * conditional instance put, create-if-missing series/study, additive counters, the five IndexQuery
 * access paths and tombstones. For unit tests of pure logic only: the production path and
 * the integration tests use the real adapter against dynalite.
 */
import { Tag } from '../../lambdas/dicom/tags';
import { seriesForStoreFromReads } from '../../lambdas/storage/series-for-store';
import { personNameIndexTerms } from '../../lambdas/dicom/person-name';
import { inResultOrder } from '../../lambdas/dicomweb/search';
import {
  sameContent,
  type DateRange,
  type DeleteJob,
  type EntryKeys,
  type IndexEntry,
  type IndexQuery,
  type InstanceKey,
  type MetadataIndex,
  type PutInstanceOutcome,
  type SeriesUids,
  type Tombstone,
} from '../../lambdas/storage/ports';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The table's (PK, SK) of an entry, as in lambdas/storage/table-schema.ts. */
function entryKey(e: EntryKeys): string {
  switch (e.level) {
    case 'STUDY':
      return `STUDY#${e.studyInstanceUID}|#STUDY`;
    case 'SERIES':
      return `STUDY#${e.studyInstanceUID}|SERIES#${e.seriesInstanceUID ?? ''}`;
    case 'INSTANCE':
      return `STUDY#${e.studyInstanceUID}|INSTANCE#${e.seriesInstanceUID ?? ''}#${e.sopInstanceUID ?? ''}`;
  }
}

function tombstoneKey(t: Omit<Tombstone, 'deletedAt'>): string {
  return `${t.level}#${t.studyInstanceUID}#${t.seriesInstanceUID ?? ''}#${t.sopInstanceUID ?? ''}`;
}

/** The entry's own UID: what the ByUid index is keyed on. */
function ownUid(e: IndexEntry): string | undefined {
  return e.level === 'STUDY' ? e.studyInstanceUID : e.level === 'SERIES' ? e.seriesInstanceUID : e.sopInstanceUID;
}

/** Inclusive on both ends; an entry without a Study Date never matches a range. */
function inDateRange(studyDate: string, range: DateRange | undefined): boolean {
  if (!range) return true;
  if (studyDate === '') return false;
  if (range.from !== undefined && studyDate < range.from) return false;
  if (range.to !== undefined && studyDate > range.to) return false;
  return true;
}

function copy(e: IndexEntry): IndexEntry {
  return structuredClone(e);
}

export class MemoryMetadataIndex implements MetadataIndex {
  private readonly entries = new Map<string, Mutable<IndexEntry>>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly deleteJobs = new Map<string, DeleteJob>();

  /** Every entry held, in insertion order (test inspection). */
  all(): IndexEntry[] {
    return [...this.entries.values()].map(copy);
  }

  async putInstance(entry: IndexEntry): Promise<PutInstanceOutcome> {
    // Conditional put on the entry's key, as the DynamoDB adapter does.
    const existing = this.entries.get(entryKey(entry));
    if (existing) {
      const identical = sameContent(existing.instance, entry.instance);
      return identical ? { outcome: 'identical', existing: copy(existing) } : { outcome: 'conflict', existing: copy(existing) };
    }
    this.entries.set(entryKey(entry), copy(entry));
    return { outcome: 'created' };
  }

  async ensureSeries(entry: IndexEntry): Promise<boolean> {
    return this.createIfMissing(entry);
  }

  async ensureStudy(entry: IndexEntry): Promise<boolean> {
    return this.createIfMissing(entry);
  }

  private createIfMissing(entry: IndexEntry): boolean {
    const key = entryKey(entry);
    if (this.entries.has(key)) return false;
    // As the DynamoDB adapter: a new study or series starts with its counters at zero.
    const counters =
      entry.level === 'STUDY'
        ? {
            relatedSeries: entry.relatedSeries ?? 0,
            relatedInstances: entry.relatedInstances ?? 0,
            modalities: [...(entry.modalities ?? [])].sort(),
          }
        : { relatedInstances: entry.relatedInstances ?? 0 };
    this.entries.set(key, { ...copy(entry), ...counters });
    return true;
  }

  async addStudyCounters(
    studyInstanceUID: string,
    delta: { series?: number; instances?: number; modalities?: readonly string[] },
  ): Promise<void> {
    const study = this.entries.get(entryKey({ level: 'STUDY', studyInstanceUID }));
    if (!study) return;
    study.relatedSeries = (study.relatedSeries ?? 0) + (delta.series ?? 0);
    study.relatedInstances = (study.relatedInstances ?? 0) + (delta.instances ?? 0);
    if (delta.modalities && delta.modalities.length > 0) {
      // DynamoDB ADD on a string set: a union, no duplicates.
      study.modalities = [...new Set([...(study.modalities ?? []), ...delta.modalities])].sort();
    }
  }

  async removeStudyModalities(studyInstanceUID: string, modalities: readonly string[]): Promise<void> {
    const study = this.entries.get(entryKey({ level: 'STUDY', studyInstanceUID }));
    if (!study) return;
    study.modalities = (study.modalities ?? []).filter((m) => !modalities.includes(m));
  }

  async addSeriesCounters(studyInstanceUID: string, seriesInstanceUID: string, delta: { instances: number }): Promise<void> {
    const series = this.entries.get(entryKey({ level: 'SERIES', studyInstanceUID, seriesInstanceUID }));
    if (!series) return;
    series.relatedInstances = (series.relatedInstances ?? 0) + delta.instances;
  }

  async getStudy(studyInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.get({ level: 'STUDY', studyInstanceUID });
  }

  async getSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.get({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
  }

  async getInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): Promise<IndexEntry | undefined> {
    return this.get({ level: 'INSTANCE', studyInstanceUID, seriesInstanceUID, sopInstanceUID });
  }

  async getEntries(keys: readonly EntryKeys[]): Promise<(IndexEntry | undefined)[]> {
    return keys.map((k) => this.get(k));
  }

  private get(keys: EntryKeys): IndexEntry | undefined {
    const e = this.entries.get(entryKey(keys));
    return e ? copy(e) : undefined;
  }

  async *query(q: IndexQuery): AsyncIterable<IndexEntry> {
    const found = [...this.entries.values()].filter((e) => e.level === q.level && matchesQuery(e, q));
    // As the DynamoDB index: 'patient', 'name' and 'level' in result order (IndexQuery), the others as stored.
    if (q.by === 'patient' || q.by === 'name' || q.by === 'level') found.sort(inResultOrder);
    for (const e of found) yield copy(e);
  }

  async deleteEntry(entry: EntryKeys): Promise<void> {
    this.entries.delete(entryKey(entry));
  }

  async putTombstone(t: Tombstone): Promise<void> {
    this.tombstones.set(tombstoneKey(t), { ...t });
  }

  async findTombstone(t: Omit<Tombstone, 'deletedAt'>): Promise<Tombstone | undefined> {
    const candidates: Omit<Tombstone, 'deletedAt'>[] = [t];
    if (t.level === 'INSTANCE' || t.level === 'SERIES') {
      candidates.push({ level: 'STUDY', studyInstanceUID: t.studyInstanceUID });
    }
    if (t.level === 'INSTANCE') {
      candidates.push({ level: 'SERIES', studyInstanceUID: t.studyInstanceUID, seriesInstanceUID: t.seriesInstanceUID });
    }
    for (const c of candidates) {
      const found = this.tombstones.get(tombstoneKey(c));
      if (found) return { ...found };
    }
    return undefined;
  }

  async clearTombstones(instances: readonly InstanceKey[]): Promise<void> {
    for (const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } of instances) {
      this.tombstones.delete(tombstoneKey({ level: 'INSTANCE', studyInstanceUID, seriesInstanceUID, sopInstanceUID }));
      this.tombstones.delete(tombstoneKey({ level: 'SERIES', studyInstanceUID, seriesInstanceUID }));
      this.tombstones.delete(tombstoneKey({ level: 'STUDY', studyInstanceUID }));
    }
  }

  async startDeleteJob(job: DeleteJob): Promise<boolean> {
    const key = deleteJobKey(job);
    if (this.deleteJobs.has(key)) return false;
    this.deleteJobs.set(key, { ...job });
    return true;
  }

  async findDeleteJob(uids: { readonly studyInstanceUID: string; readonly seriesInstanceUID?: string }): Promise<DeleteJob | undefined> {
    const study = this.deleteJobs.get(deleteJobKey({ level: 'STUDY', studyInstanceUID: uids.studyInstanceUID }));
    if (study || uids.seriesInstanceUID === undefined) return study && { ...study };
    const series = this.deleteJobs.get(deleteJobKey({ level: 'SERIES', ...uids }));
    return series && { ...series };
  }

  async endDeleteJob(job: Omit<DeleteJob, 'startedAt'>): Promise<void> {
    this.deleteJobs.delete(deleteJobKey(job));
  }
  findSeriesForStore(uids: SeriesUids): Promise<{ deleteJob?: DeleteJob; study?: IndexEntry; series?: IndexEntry }> {
    return seriesForStoreFromReads(this, uids);
  }
}

function deleteJobKey(job: Omit<DeleteJob, 'startedAt'>): string {
  return `${job.level}#${job.studyInstanceUID}#${job.level === 'SERIES' ? job.seriesInstanceUID : ''}`;
}

function matchesQuery(e: IndexEntry, q: IndexQuery): boolean {
  switch (q.by) {
    case 'study':
      return (
        e.studyInstanceUID === q.studyInstanceUID && (q.seriesInstanceUID === undefined || e.seriesInstanceUID === q.seriesInstanceUID)
      );
    case 'uid': {
      const uid = ownUid(e);
      return uid !== undefined && q.uids.includes(uid);
    }
    case 'patient':
      return e.patientId === q.patientId && inDateRange(e.studyDate, q.dateRange);
    case 'name':
      return (
        personNameIndexTerms(e.attributes[Tag.PatientName]).some((t) => t.startsWith(q.prefix)) && inDateRange(e.studyDate, q.dateRange)
      );
    case 'level':
      return inDateRange(e.studyDate, q.dateRange);
  }
}
