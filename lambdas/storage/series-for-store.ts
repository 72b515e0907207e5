/**
 * MetadataIndex.findSeriesForStore of an adapter whose reads cost no round trip (SQLite, memory): its
 * three reads, findDeleteJob, getStudy and getSeries, each absent when there is none. DynamoDB answers
 * it with one Query instead (dynamodb.ts).
 */
import type { DeleteJob, IndexEntry, MetadataIndex, SeriesUids } from './ports';

export async function seriesForStoreFromReads(
  index: Pick<MetadataIndex, 'findDeleteJob' | 'getStudy' | 'getSeries'>,
  uids: SeriesUids,
): Promise<{ deleteJob?: DeleteJob; study?: IndexEntry; series?: IndexEntry }> {
  const { studyInstanceUID, seriesInstanceUID } = uids;
  const [deleteJob, study, series] = await Promise.all([
    index.findDeleteJob(uids),
    index.getStudy(studyInstanceUID),
    index.getSeries(studyInstanceUID, seriesInstanceUID),
  ]);
  return { ...(deleteJob && { deleteJob }), ...(study && { study }), ...(series && { series }) };
}
