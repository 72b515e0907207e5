/**
 * The archive's management beside DICOMweb (docs/security.md): API key clients (/admin/clients,
 * /admin/clients/{clientId}) and share links (/admin/shares, /admin/shares/{shareId}).
 */
import { ClientsService } from '../auth/clients-service';
import { ShareLinksService } from '../auth/share-links-service';
import { createClientStore } from '../storage/factory/client-store';
import { metadataIndex } from '../storage/factory/metadata-index';
import { functionServices } from './function-services';
import { dicomwebHandler, type Operations } from '../http/middleware';
import { shareLinksOptions } from './service-options';
import type { Services } from './services';

type AdminServices = Pick<Services, 'clients' | 'shares'>;

/** The clients service, which only a process with the clients table has. */
function clientsOf(s: AdminServices): ClientsService {
  if (!s.clients) throw new Error('the API key clients are not configured: CLIENTS_TABLE_NAME is not set');
  return s.clients;
}

/** The share links service, which only a process with the clients table has. */
function sharesOf(s: AdminServices): ShareLinksService {
  if (!s.shares) throw new Error('share links are not configured: CLIENTS_TABLE_NAME is not set');
  return s.shares;
}

export const operations: Operations<'admin', AdminServices> = {
  AddClient: (req, s) => clientsOf(s).add({ contentType: req.headers['content-type'], accept: req.headers.accept, body: req.body }),
  ListClients: (req, s) => clientsOf(s).list({ accept: req.headers.accept }),
  RevokeClient: (req, s) => clientsOf(s).revoke(req.pathParameters.clientId!),
  CreateShare: (req, s) =>
    sharesOf(s).create({
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      body: req.body,
      baseUrl: req.baseUrl,
      createdBy: req.principal ?? 'anonymous',
    }),
  ListShares: (req, s) => sharesOf(s).list({ accept: req.headers.accept }),
  RevokeShare: (req, s) => sharesOf(s).revoke(req.pathParameters.shareId!),
};

/** The clients table, and the archive's table only to find the study a link is made for. */
export const handler = dicomwebHandler(
  'admin',
  operations,
  functionServices((cfg, { clientStore, shareLinkStore }) => {
    const clients = new ClientsService(clientStore ?? createClientStore(cfg));
    if (!shareLinkStore) return { clients };
    const shares = new ShareLinksService(shareLinkStore, metadataIndex(cfg), shareLinksOptions(cfg));
    return { clients, shares };
  }),
);
