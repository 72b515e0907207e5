/**
 * Deletion of studies, series and instances: not a PS3.18 transaction, the archive's management of its
 * own resources (lambdas/http/routes.ts DeleteStudy / DeleteSeries / DeleteInstance).
 *
 * A study or series of any size is deleted as a job that survives the function timeout:
 * 1. A Delete job (ports.ts DeleteJob) is written first, then the tombstone. From then on Retrieve of
 *    the resource answers 410, a Store into it is refused, and a DELETE of it resumes the job.
 * 2. The entries above the instances go (study and series entries; a series' counts leave its study),
 *    so searches stop listing the resource.
 * 3. The instances, a batch at a time: index entries first (nothing is then retrieved, searched or sent
 *    from them, so no request meets an entry whose object has vanished), then their objects. A crash
 *    in between (the function killed at its timeout, not an error, which removeInstances handles)
 *    leaves at most a batch of unreachable objects, under keys no later store writes (storage/keys.ts).
 *    Between batches, a step that is running out of time hands the job on (continueJob) and the
 *    request answers 202; every step re-reads what remains, so a retried or second step resumes.
 * 4. Last, what a Store racing the start may have recreated, the tombstone again, and the job.
 * A crash between a removal and its counter ADD leaves a count too high: an overstatement in QIDO,
 * never a resource served without its data.
 */
import { Tag } from '../dicom/tags';
import type { BlobStore, DeleteJob, IndexEntry, MetadataIndex } from '../storage/ports';
import { derivedImageKeys } from './derived-images';
import { BadRequestError } from './errors';
import { absentResourceError, assertValidUids, collect, instancesOf, isEmpty, type ResourceUids } from './resources';

/** Index entries removed at once: a large study fits the function timeout, a burst stays small. */
const PARALLEL_DELETES = 16;

/** The study or series a Delete job removes; what a continuation carries. */
export type DeleteTarget = Omit<DeleteJob, 'startedAt'>;

/** The time a step may take: it hands the job on once fewer than `reserveMillis` remain. */
export interface DeleteBudget {
  /** Milliseconds before the caller must have answered (Lambda: context.getRemainingTimeInMillis). */
  remainingMillis(): number;
}

export interface DeleteOptions {
  /** A step hands the job on after a batch once fewer milliseconds than this remain (default 10,000). */
  readonly reserveMillis?: number;
  /** Instances removed per batch (default 200). */
  readonly batchSize?: number;
  /**
   * Continues a job a step left unfinished: in AWS, an asynchronous invocation of the delete function
   * itself (lambdas/handlers/delete.ts); by default, in the background of this process.
   */
  readonly continueJob?: (target: DeleteTarget) => Promise<void>;
  readonly now?: () => Date;
}

export interface DeleteResult {
  /** Instances this call removed. */
  readonly deletedInstances: number;
  /** False when the job continues after this call (202 Accepted). */
  readonly done: boolean;
}

const NO_LIMIT: DeleteBudget = { remainingMillis: () => Number.POSITIVE_INFINITY };

export class DeleteService {
  private readonly reserveMillis: number;
  private readonly batchSize: number;
  private readonly now: () => Date;
  private readonly continueJob: (target: DeleteTarget) => Promise<void>;
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly index: MetadataIndex,
    private readonly blobs: BlobStore,
    opts: DeleteOptions = {},
  ) {
    this.reserveMillis = opts.reserveMillis ?? 10_000;
    this.batchSize = opts.batchSize ?? 200;
    this.now = opts.now ?? (() => new Date());
    this.continueJob = opts.continueJob ?? ((target) => this.continueInBackground(target));
  }

  async deleteStudy({ studyInstanceUID }: ResourceUids, budget: DeleteBudget = NO_LIMIT): Promise<DeleteResult> {
    assertValidUids({ studyInstanceUID });
    return this.accept({ level: 'STUDY', studyInstanceUID }, budget);
  }

  async deleteSeries({ studyInstanceUID, seriesInstanceUID }: ResourceUids, budget: DeleteBudget = NO_LIMIT): Promise<DeleteResult> {
    if (seriesInstanceUID === undefined) throw new BadRequestError('a series is addressed by its Series Instance UID');
    assertValidUids({ studyInstanceUID, seriesInstanceUID });
    return this.accept({ level: 'SERIES', studyInstanceUID, seriesInstanceUID }, budget);
  }

  /** One step of a job handed on by continueJob; a job already finished is left alone. */
  async resume(target: DeleteTarget, budget: DeleteBudget = NO_LIMIT): Promise<DeleteResult> {
    const job = await this.index.findDeleteJob(target);
    if (!job) return { deletedInstances: 0, done: true };
    return this.step(target, budget, false);
  }

  /** Resolves once the jobs continued in this process's background have ended (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  async deleteInstance({ studyInstanceUID, seriesInstanceUID, sopInstanceUID }: ResourceUids): Promise<DeleteResult> {
    if (seriesInstanceUID === undefined || sopInstanceUID === undefined) {
      throw new BadRequestError('an instance is addressed by its Series and SOP Instance UIDs');
    }
    const uids = { studyInstanceUID, seriesInstanceUID, sopInstanceUID };
    assertValidUids(uids);
    const instances = await instancesOf(this.index, uids);
    if (instances.length === 0) throw await absentResourceError(this.index, uids);

    await this.removeInstances(instances);
    await this.index.addSeriesCounters(studyInstanceUID, seriesInstanceUID, { instances: -1 });
    await this.index.addStudyCounters(studyInstanceUID, { instances: -1 });
    if (await isEmpty(this.index.query({ by: 'study', level: 'INSTANCE', studyInstanceUID, seriesInstanceUID }))) {
      const series = await this.index.getSeries(studyInstanceUID, seriesInstanceUID);
      await this.index.deleteEntry({ level: 'SERIES', studyInstanceUID, seriesInstanceUID });
      await this.index.addStudyCounters(studyInstanceUID, { series: -1 });
      if (series) await this.dropModalitiesOf(series);
    }
    await this.removeStudyIfEmpty(studyInstanceUID);
    await this.index.putTombstone({ level: 'INSTANCE', ...uids, deletedAt: this.deletedAt() });
    return { deletedInstances: 1, done: true };
  }

  /**
   * A DELETE of a study or series: resumes the job under way (the study's, when the study is being
   * deleted), or starts one on a resource that exists (404 / 410 otherwise).
   */
  private async accept(target: DeleteTarget, budget: DeleteBudget): Promise<DeleteResult> {
    const running = await this.index.findDeleteJob(target);
    if (running)
      return this.step(
        { level: running.level, studyInstanceUID: running.studyInstanceUID, seriesInstanceUID: running.seriesInstanceUID },
        budget,
        false,
      );
    if (!(await this.exists(target))) throw await absentResourceError(this.index, target);
    const started = await this.index.startDeleteJob({ ...target, startedAt: this.deletedAt() });
    // Step 1: from here on, reads answer 410 and a DELETE resumes.
    if (started) await this.putTombstone(target);
    return this.step(target, budget, started);
  }

  private async exists(t: DeleteTarget): Promise<boolean> {
    const instances = this.index.query({
      by: 'study',
      level: 'INSTANCE',
      studyInstanceUID: t.studyInstanceUID,
      seriesInstanceUID: t.seriesInstanceUID,
    });
    if (t.level === 'SERIES')
      return (await this.index.getSeries(t.studyInstanceUID, t.seriesInstanceUID!)) !== undefined || !(await isEmpty(instances));
    if (await this.index.getStudy(t.studyInstanceUID)) return true;
    const series = this.index.query({ by: 'study', level: 'SERIES', studyInstanceUID: t.studyInstanceUID });
    return !(await isEmpty(series)) || !(await isEmpty(instances));
  }

  /**
   * Steps 2 to 4, as far as the budget allows; `first` for the step that started the job, the one that
   * takes the series' counts out of its study (once).
   */
  private async step(t: DeleteTarget, budget: DeleteBudget, first: boolean): Promise<DeleteResult> {
    await this.removeEntriesAbove(t, first);
    let deleted = 0;
    for (;;) {
      const batch = await this.nextBatch(t);
      if (batch.length === 0) break;
      await this.removeInstances(batch);
      deleted += batch.length;
      if (t.level === 'STUDY') await this.endSeriesJobsOf(batch);
      if (batch.length === this.batchSize && budget.remainingMillis() < this.reserveMillis) {
        await this.continueJob(t);
        return { deletedInstances: deleted, done: false };
      }
    }
    // Step 4.
    await this.removeEntriesAbove(t, false);
    if (t.level === 'SERIES') await this.removeStudyIfEmpty(t.studyInstanceUID);
    await this.putTombstone(t);
    await this.index.endDeleteJob(t);
    return { deletedInstances: deleted, done: true };
  }

  /**
   * A study's Delete takes over the Delete of any of its series started before it: the series' jobs
   * end with their instances, so none is left to refuse a Store into the series afterwards.
   */
  private async endSeriesJobsOf(batch: readonly IndexEntry[]): Promise<void> {
    const series = new Set(batch.map((e) => e.seriesInstanceUID!));
    await Promise.all(
      [...series].map((seriesInstanceUID) =>
        this.index.endDeleteJob({ level: 'SERIES', studyInstanceUID: batch[0]!.studyInstanceUID, seriesInstanceUID }),
      ),
    );
  }

  /** The next instances of the resource, at most a batch. */
  private async nextBatch(t: DeleteTarget): Promise<IndexEntry[]> {
    const batch: IndexEntry[] = [];
    const all = this.index.query({
      by: 'study',
      level: 'INSTANCE',
      studyInstanceUID: t.studyInstanceUID,
      seriesInstanceUID: t.seriesInstanceUID,
    });
    for await (const entry of all) {
      batch.push(entry);
      if (batch.length === this.batchSize) break;
    }
    return batch;
  }

  /** Step 2: the study and its series entries, or the series entry (its counts leave the study once). */
  private async removeEntriesAbove(t: DeleteTarget, first: boolean): Promise<void> {
    const { studyInstanceUID } = t;
    if (t.level === 'STUDY') {
      for (const series of await collect(this.index.query({ by: 'study', level: 'SERIES', studyInstanceUID }))) {
        await this.index.deleteEntry(series);
      }
      // No counter to adjust: the study entry holding them goes too.
      await this.index.deleteEntry({ level: 'STUDY', studyInstanceUID });
      return;
    }
    const series = await this.index.getSeries(studyInstanceUID, t.seriesInstanceUID!);
    if (!series) return;
    await this.index.deleteEntry(series);
    if (!first) return;
    await this.index.addStudyCounters(studyInstanceUID, { series: -1, instances: -(series.relatedInstances ?? 0) });
    await this.dropModalitiesOf(series);
  }

  /** Background continuation of this process (the embedded archive): steps until the job is done. */
  private async continueInBackground(target: DeleteTarget): Promise<void> {
    const run = (async () => {
      // After the answer: the step that handed the job on returns first.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        while (!(await this.resume(target)).done);
      } catch (error) {
        // A DELETE of the resource resumes the job. No UIDs in the log: they may identify a patient.
        console.error(
          JSON.stringify({
            level: 'error',
            message: 'delete job stopped; a DELETE of the resource resumes it',
            error: error instanceof Error ? error.name : String(error),
          }),
        );
      }
    })();
    this.background.add(run);
    void run.finally(() => this.background.delete(run));
  }

  /**
   * ModalitiesInStudy (PS3.18 Table 10.6.3-3) after a series is gone: its Modality leaves the study
   * unless another series of the study still has it.
   */
  private async dropModalitiesOf(series: IndexEntry): Promise<void> {
    const modality = series.attributes[Tag.Modality]?.Value?.[0];
    if (typeof modality !== 'string' || modality === '') return;
    const remaining = await collect(this.index.query({ by: 'study', level: 'SERIES', studyInstanceUID: series.studyInstanceUID }));
    if (remaining.some((s) => s.attributes[Tag.Modality]?.Value?.[0] === modality)) return;
    await this.index.removeStudyModalities(series.studyInstanceUID, [modality]);
  }

  /**
   * Index entries first, then their objects (step 3 above). When removing an entry fails, the objects
   * of those removed go all the same before the error is passed on: no later step would find them.
   */
  private async removeInstances(instances: readonly IndexEntry[]): Promise<void> {
    const removed: IndexEntry[] = [];
    let failure: { reason: unknown } | undefined;
    for (let i = 0; i < instances.length && !failure; i += PARALLEL_DELETES) {
      const chunk = instances.slice(i, i + PARALLEL_DELETES);
      const outcomes = await Promise.allSettled(chunk.map((entry) => this.index.deleteEntry(entry)));
      outcomes.forEach((o, j) => {
        if (o.status === 'fulfilled') removed.push(chunk[j]!);
        else failure ??= { reason: o.reason };
      });
    }
    // With the cached images derived from them (./derived-images.ts).
    const keys = removed.flatMap((e) =>
      e.instance ? [e.instance.objectKey, e.instance.metadataKey, ...derivedImageKeys(e.instance)] : [],
    );
    if (keys.length > 0) await this.blobs.delete(keys);
    if (failure) throw failure.reason;
  }

  /** A study left without instances goes, with any series entry still under it. */
  private async removeStudyIfEmpty(studyInstanceUID: string): Promise<void> {
    if (!(await isEmpty(this.index.query({ by: 'study', level: 'INSTANCE', studyInstanceUID })))) return;
    for (const series of await collect(this.index.query({ by: 'study', level: 'SERIES', studyInstanceUID }))) {
      await this.index.deleteEntry(series);
    }
    await this.index.deleteEntry({ level: 'STUDY', studyInstanceUID });
  }

  private putTombstone(t: DeleteTarget): Promise<void> {
    return this.index.putTombstone({ ...t, deletedAt: this.deletedAt() });
  }

  private deletedAt(): string {
    return this.now().toISOString();
  }
}
