/**
 * Studies Service resources (PS3.18 10.1.1) as the retrieve and delete services address them: the
 * UIDs of a study, series or instance, their validation, the instances they hold, and the 404/410
 * answer when none is indexed.
 */
import { isValidUid } from '../dicom/uid';
import type { IndexEntry, Level, MetadataIndex } from '../storage/ports';
import { BadRequestError, GoneError, NotFoundError } from './errors';

export interface ResourceUids {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID?: string;
  readonly sopInstanceUID?: string;
}

export function levelOf(uids: ResourceUids): Level {
  if (uids.sopInstanceUID !== undefined) return 'INSTANCE';
  return uids.seriesInstanceUID !== undefined ? 'SERIES' : 'STUDY';
}

/** 400 unless every UID of the path is a valid UID (PS3.5 9.1); an instance needs its series too. */
export function assertValidUids(uids: ResourceUids): void {
  if (uids.sopInstanceUID !== undefined && uids.seriesInstanceUID === undefined) {
    throw new BadRequestError('an instance is addressed under its series', [{ target: 'seriesInstanceUID', message: 'missing' }]);
  }
  const details = (['studyInstanceUID', 'seriesInstanceUID', 'sopInstanceUID'] as const)
    .filter((name) => uids[name] !== undefined && !isValidUid(uids[name]!))
    .map((name) => ({ target: name, message: 'not a valid UID (PS3.5 9.1)' }));
  if (details.length > 0) throw new BadRequestError('malformed UID in the request path', details);
}

/** The instance entries of a study, series or instance, in index order. */
export async function instancesOf(index: MetadataIndex, uids: ResourceUids): Promise<IndexEntry[]> {
  return collect(eachInstanceOf(index, uids));
}

/**
 * The same, as the index reads them (a page at a time), for a caller that keeps less than the whole
 * entry of each instance.
 */
export async function* eachInstanceOf(index: MetadataIndex, uids: ResourceUids): AsyncIterable<IndexEntry> {
  const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = uids;
  if (sopInstanceUID !== undefined) {
    const entry = await index.getInstance(studyInstanceUID, seriesInstanceUID!, sopInstanceUID);
    if (entry) yield entry;
    return;
  }
  yield* index.query({ by: 'study', level: 'INSTANCE', studyInstanceUID, seriesInstanceUID });
}

/**
 * 410 for a study or series whose Delete is under way (delete.ts): what it has not removed yet is
 * going, so it is answered as deleted at once. An instance is served until its entry is removed.
 * Started beside the read of the instances; awaited before answering.
 */
export function assertNotBeingDeleted(index: MetadataIndex, uids: ResourceUids): Promise<void> {
  const check = (async () => {
    if (uids.sopInstanceUID !== undefined) return;
    if (await index.findDeleteJob(uids)) throw new GoneError(`the ${levelOf(uids).toLowerCase()} has been deleted`);
  })();
  // Awaited by the caller unless its own read fails first.
  check.catch(() => undefined);
  return check;
}

/** The error for a resource with nothing indexed: 410 when a tombstone says it was deleted, else 404. */
export async function absentResourceError(index: MetadataIndex, uids: ResourceUids): Promise<GoneError | NotFoundError> {
  const { studyInstanceUID, seriesInstanceUID, sopInstanceUID } = uids;
  const level = levelOf(uids);
  const tombstone = await index.findTombstone({ level, studyInstanceUID, seriesInstanceUID, sopInstanceUID });
  const what = level.toLowerCase();
  return tombstone ? new GoneError(`the ${what} has been deleted`) : new NotFoundError(`the ${what} does not exist`);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export async function isEmpty(items: AsyncIterable<unknown>): Promise<boolean> {
  for await (const _ of items) return false;
  return true;
}
