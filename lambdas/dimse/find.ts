/**
 * C-FIND SCP behaviour (PS3.4 C.4.1.3.1) for the Patient Root and Study Root FIND SOP Classes,
 * answered from the QIDO-RS search service: one Pending response per match (FF00, or FF01 when an
 * Optional Key with a value could not be matched), then Success; Cancel (FE00) when a C-CANCEL-FIND
 * arrives between matches; A900 for a malformed Identifier; A700 when the search would read too many
 * index entries; C000 when the search fails otherwise.
 */
import { Tag } from '../dicom/tags';
import { PATIENT_ATTRIBUTES } from '../dicomweb/attributes';
import { PayloadTooLargeError } from '../dicomweb/errors';
import type { SearchService } from '../dicomweb/search';
import type { DicomJson } from '../dicom/json';
import { DimseStatusError, findQueryOf, patientsOf, responseIdentifier, type InformationModel } from './identifier';
import { Status } from './status';

export interface FindResponse {
  readonly status: number;
  readonly identifier?: DicomJson;
  readonly comment?: string;
  readonly offendingElements?: readonly string[];
}

const PATIENT_RETURN_TAGS = [...PATIENT_ATTRIBUTES, Tag.SpecificCharacterSet];

/** The responses of one C-FIND, Pending ones first, the final one last. */
export async function* performFind(
  search: SearchService,
  req: { readonly model: InformationModel; readonly identifier: DicomJson; readonly signal: AbortSignal; readonly aeTitle: string },
): AsyncGenerator<FindResponse> {
  let matches: DicomJson[];
  let query: ReturnType<typeof findQueryOf>;
  try {
    query = findQueryOf(req.identifier, req.model);
    const includeFields = query.queryLevel === 'PATIENT' ? PATIENT_RETURN_TAGS : query.returnTags;
    matches = await allMatches(search, { level: query.level, parameters: { ...query.parameters, includeFields }, baseUrl: '' });
    if (query.queryLevel === 'PATIENT') matches = patientsOf(matches);
  } catch (error) {
    if (error instanceof DimseStatusError) {
      yield { status: error.status, comment: error.comment, offendingElements: error.offendingElements };
    } else if (error instanceof PayloadTooLargeError) {
      yield { status: Status.OutOfResources, comment: 'too many entries to search; add a more selective key' };
    } else {
      console.error(JSON.stringify({ event: 'c-find-error', fault: error instanceof Error ? error.name : 'unknown' }));
      yield { status: Status.UnableToProcess, comment: 'the query could not be processed' };
    }
    return;
  }
  const pendingStatus = query.unsupportedKeys.length ? Status.PendingWithUnsupportedOptionalKeys : Status.Pending;
  for (const match of matches) {
    // Let a C-CANCEL-FIND that arrived meanwhile be read (C.4.1.3.1: Cancel ends the matching).
    await new Promise((resolve) => setImmediate(resolve));
    if (req.signal.aborted) {
      yield { status: Status.Cancel };
      return;
    }
    yield { status: pendingStatus, identifier: responseIdentifier(match, query, req.aeTitle) };
  }
  yield { status: Status.Success };
}

/** Every match of the search, page after page. */
async function allMatches(search: SearchService, req: Parameters<SearchService['search']>[0]): Promise<DicomJson[]> {
  const out: DicomJson[] = [];
  for (let offset = 0; ;) {
    const page = await search.search({ ...req, parameters: { ...req.parameters, offset } });
    out.push(...page.results);
    if (!page.truncated || page.results.length === 0) return out;
    offset += page.results.length;
  }
}
