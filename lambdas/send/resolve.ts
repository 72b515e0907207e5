/**
 * The Resolve task of the Send state machine (lib/send-workflow.ts): the Send request's search run
 * once (Sup 248 10.X.2), its matches expanded to instances and written as the manifest that Deliver's
 * batches come from, and Remaining set to their number (PS3.4 C.4.2.3.1.1.4).
 */
import type { NpiService } from '../dicomweb/npi';
import { requireNpiCategory } from '../dicomweb/npi-categories';
import type { SearchService } from '../dicomweb/search';
import type { SearchParameters } from '../dicomweb/query-params';
import { eachInstanceOf } from '../dicomweb/resources';
import { parseSendSearchParameters } from '../dicomweb/send';
import { sendManifestKey } from '../storage/keys';
import type { BlobStore, IndexEntry, MetadataIndex, NpiIndex, SendRequestStore } from '../storage/ports';
import { toBatches } from './counters';
import { sendRequestOf } from './finish';
import { retryableOnStorageFaults } from './task-errors';
import { parseManifestJsonLines, toManifestJsonLines, type ManifestItem, type ResolveInput, type ResolveOutput } from './workflow-io';

export interface SendResolveDeps {
  readonly requests: SendRequestStore;
  readonly search: SearchService;
  readonly index: MetadataIndex;
  readonly blobs: BlobStore;
  /** Non-Patient Instances (PS3.18 12): Send on /{npi-name}/send-requests (Sup 248 12.X). */
  readonly npi?: { readonly service: NpiService; readonly index: NpiIndex };
}

export class SendResolve {
  constructor(private readonly deps: SendResolveDeps) {}

  /**
   * Resolve: the search of the Send request at its resource's level (Sup 248 10.X.2), expanded to
   * instances, written as the manifest; sets Remaining to the number of matches.
   */
  resolve(input: ResolveInput): Promise<ResolveOutput> {
    return retryableOnStorageFaults(() => this.resolveMatches(input));
  }

  private async resolveMatches(input: ResolveInput): Promise<ResolveOutput> {
    const record = await sendRequestOf(this.deps.requests, input.transactionUID);
    const manifestKey = sendManifestKey(record.transactionUID);
    // Run again after an earlier run counted the matches (its answer lost): its manifest stands, so
    // Remaining and the batches Deliver counts from are the same instances.
    if (record.remaining !== undefined) {
      const written = await this.deps.blobs.get(manifestKey);
      if (written) return resolved(parseManifestJsonLines(Buffer.from(written).toString('utf8')), manifestKey, input);
    }
    const query = new Map<string, string[]>();
    for (const [name, value] of record.search) query.set(name, [...(query.get(name) ?? []), value]);
    const parameters = parseSendSearchParameters(query, record.target);
    const items =
      record.target.npi !== undefined
        ? await this.npiInstancesOf(record.target.npi, parameters)
        : await this.instancesOf(
            await this.deps.search.matchingEntries({
              level: record.target.level,
              studyInstanceUID: record.target.studyInstanceUID,
              seriesInstanceUID: record.target.seriesInstanceUID,
              parameters,
              baseUrl: '',
            }),
          );
    await this.deps.blobs.put(manifestKey, Buffer.from(toManifestJsonLines(items)), 'application/jsonl');
    await this.deps.requests.setMatched(record.transactionUID, items.length);
    return resolved(items, manifestKey, input);
  }

  /** The Non-Patient Instances of the category the search matches (Sup 248 12.X.2), as manifest items. */
  private async npiInstancesOf(npi: string, parameters: SearchParameters): Promise<ManifestItem[]> {
    const entries = await this.npiDeps().service.matchingEntries(requireNpiCategory(npi), parameters);
    return entries.map((e) => ({
      studyInstanceUID: '',
      seriesInstanceUID: '',
      sopInstanceUID: e.sopInstanceUID,
      sopClassUID: e.instance.sopClassUID,
      npi: e.category,
    }));
  }

  private npiDeps(): NonNullable<SendResolveDeps['npi']> {
    if (!this.deps.npi) throw new TypeError('SendResolve was built without the NPI service');
    return this.deps.npi;
  }

  /** The instances under the matched studies, series or instances, as manifest items. */
  private async instancesOf(matches: readonly IndexEntry[]): Promise<ManifestItem[]> {
    const items: ManifestItem[] = [];
    const add = (e: IndexEntry) => {
      if (e.level === 'INSTANCE' && e.instance && e.seriesInstanceUID && e.sopInstanceUID) {
        items.push({
          studyInstanceUID: e.studyInstanceUID,
          seriesInstanceUID: e.seriesInstanceUID,
          sopInstanceUID: e.sopInstanceUID,
          sopClassUID: e.instance.sopClassUID,
        });
      }
    };
    for (const match of matches) {
      if (match.level === 'INSTANCE') {
        add(match);
        continue;
      }
      const uids = {
        studyInstanceUID: match.studyInstanceUID,
        ...(match.level === 'SERIES' && { seriesInstanceUID: match.seriesInstanceUID }),
      };
      for await (const entry of eachInstanceOf(this.deps.index, uids)) add(entry);
    }
    return items;
  }
}

/** Resolve's output: the number of matches, the manifest, and in inline mode the batches. */
function resolved(items: readonly ManifestItem[], manifestKey: string, input: ResolveInput): ResolveOutput {
  return { matched: items.length, manifestKey, ...(input.batchSize !== undefined ? { batches: toBatches(items, input.batchSize) } : {}) };
}
