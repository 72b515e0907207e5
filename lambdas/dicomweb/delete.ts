/**
 * Deletion of studies, series and instances: not a PS3.18 transaction, the archive's management of its
 * own resources (lib/routes.ts DeleteStudy / DeleteSeries / DeleteInstance).
 *
 * Crash safety: the order of the writes makes every state a crash can leave harmless.
 * 1. The instances' index entries go first. From then on nothing is retrieved, searched or sent from
 *    them, so no request ever meets an entry whose object has vanished.
 * 2. Then their S3 objects. A crash before this step leaves orphan objects: unreachable (nothing
 *    indexes them), and a later store of the same instance overwrites them (same keys).
 * 3. Then the counters and the series/study entries. A series entry goes after its instances, so a
 *    retried DeleteSeries (or DeleteStudy) still finds it and finishes, subtracting the series' own
 *    NumberOfSeriesRelatedInstances, which still counts the instances an interrupted attempt removed.
 *    A crash between a removal and its counter ADD leaves a count too high: an overstatement in QIDO,
 *    never a resource served without its data. A series entry a crashed DeleteInstance left empty is
 *    removed by a DeleteSeries of it (its entry still exists, so the request is not a 404).
 * 4. The tombstone last: it only turns a later 404 into 410, so its absence after a crash is harmless.
 */
import { Tag } from '../dicom/tags';
import type { BlobStore, IndexEntry, MetadataIndex } from '../storage/ports';
import { BadRequestError } from './errors';
import { absentResourceError, assertValidUids, collect, instancesOf, isEmpty, type ResourceUids } from './resources';

/** Index entries removed at once: a large study fits the function timeout, a burst stays small. */
const PARALLEL_DELETES = 16;

export interface DeleteResult {
  readonly deletedInstances: number;
}

export class DeleteService {
  constructor(
    private readonly index: MetadataIndex,
    private readonly blobs: BlobStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async deleteStudy({ studyInstanceUID }: ResourceUids): Promise<DeleteResult> {
    const uids = { studyInstanceUID };
    assertValidUids(uids);
    const study = await this.index.getStudy(studyInstanceUID);
    const seriesEntries = await collect(this.index.query({ by: 'study', level: 'SERIES', studyInstanceUID }));
    const instances = await instancesOf(this.index, uids);
    if (!study && seriesEntries.length === 0 && instances.length === 0) throw await absentResourceError(this.index, uids);

    await this.removeInstances(instances);
    for (const series of seriesEntries) await this.index.deleteEntry(series);
    // No counter to adjust: the study entry holding them goes too.
    await this.index.deleteEntry({ level: 'STUDY', studyInstanceUID });
    await this.index.putTombstone({ level: 'STUDY', ...uids, deletedAt: this.deletedAt() });
    return { deletedInstances: instances.length };
  }

  async deleteSeries({ studyInstanceUID, seriesInstanceUID }: ResourceUids): Promise<DeleteResult> {
    if (seriesInstanceUID === undefined) throw new BadRequestError('a series is addressed by its Series Instance UID');
    const uids = { studyInstanceUID, seriesInstanceUID };
    assertValidUids(uids);
    const series = await this.index.getSeries(studyInstanceUID, seriesInstanceUID);
    const instances = await instancesOf(this.index, uids);
    if (!series && instances.length === 0) throw await absentResourceError(this.index, uids);

    await this.removeInstances(instances);
    if (series) {
      await this.index.deleteEntry(series);
      const removed = series.relatedInstances ?? instances.length;
      await this.index.addStudyCounters(studyInstanceUID, { series: -1, instances: -removed });
      await this.dropModalitiesOf(series);
    }
    await this.removeStudyIfEmpty(studyInstanceUID);
    await this.index.putTombstone({ level: 'SERIES', ...uids, deletedAt: this.deletedAt() });
    return { deletedInstances: instances.length };
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
    return { deletedInstances: 1 };
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

  /** Index entries first, then their objects (step 1 and 2 above). */
  private async removeInstances(instances: readonly IndexEntry[]): Promise<void> {
    for (let i = 0; i < instances.length; i += PARALLEL_DELETES) {
      await Promise.all(instances.slice(i, i + PARALLEL_DELETES).map((entry) => this.index.deleteEntry(entry)));
    }
    const keys = instances.flatMap((e) => (e.instance ? [e.instance.objectKey, e.instance.metadataKey] : []));
    if (keys.length > 0) await this.blobs.delete(keys);
  }

  /** A study left without instances goes, with any series entry still under it. */
  private async removeStudyIfEmpty(studyInstanceUID: string): Promise<void> {
    if (!(await isEmpty(this.index.query({ by: 'study', level: 'INSTANCE', studyInstanceUID })))) return;
    for (const series of await collect(this.index.query({ by: 'study', level: 'SERIES', studyInstanceUID }))) {
      await this.index.deleteEntry(series);
    }
    await this.index.deleteEntry({ level: 'STUDY', studyInstanceUID });
  }

  private deletedAt(): string {
    return this.now().toISOString();
  }
}
