/**
 * Unit: the in-memory adapters of test/support pass the contract suite of their port, so a unit test
 * over them exercises the same behaviours the AWS adapters show on the emulators
 * (test/integration/storage/).
 */
import { describeBlobStoreContract } from '../../contract/blob-store.contract';
import { describeDirectTransferContract } from '../../contract/direct-transfer.contract';
import { describeUploadStoreContract } from '../../contract/upload-store.contract';
import { describeClientStoreContract } from '../../contract/client-store.contract';
import { describeMetadataIndexContract } from '../../contract/metadata-index.contract';
import { describeNpiIndexContract } from '../../contract/npi-index.contract';
import { describeSendRequestStoreContract } from '../../contract/send-request-store.contract';
import { describeShareLinkStoreContract } from '../../contract/share-link-store.contract';
import { MemoryBlobStore } from '../../support/memory-blobs';
import { MemoryDirectTransfer } from '../../support/memory-direct-transfer';
import { MemoryUploadStore } from '../../support/memory-uploads';
import { MemoryClientStore } from '../../support/memory-clients';
import { MemoryMetadataIndex } from '../../support/memory-index';
import { MemoryNpiIndex } from '../../support/memory-npi-index';
import { MemorySendRequestStore } from '../../support/memory-send-requests';
import { MemoryShareLinkStore } from '../../support/memory-share-links';

describeBlobStoreContract('MemoryBlobStore', () => new MemoryBlobStore());
describeMetadataIndexContract('MemoryIndex', () => new MemoryMetadataIndex());
describeNpiIndexContract('MemoryNpiIndex', () => new MemoryNpiIndex());
describeSendRequestStoreContract('MemorySendRequestStore', () => new MemorySendRequestStore());
describeClientStoreContract('MemoryClientStore', () => new MemoryClientStore());
describeShareLinkStoreContract('MemoryShareLinkStore', () => new MemoryShareLinkStore());

describeDirectTransferContract('MemoryDirectTransfer', () => {
  const transfer = new MemoryDirectTransfer(new MemoryBlobStore());
  return { transfer, blobs: transfer.blobs, fetch: (url, init) => transfer.fetch(url, init) };
});
describeUploadStoreContract('MemoryUploadStore', () => new MemoryUploadStore());
