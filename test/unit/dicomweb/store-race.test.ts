/** Unit: two Store calls racing on one SOP Instance UID, over in-memory ports. */
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { describeStoreRace } from '../../support/store-race';

describeStoreRace('in memory', () => ({ index: new MemoryMetadataIndex(), blobs: new MemoryBlobStore() }));
