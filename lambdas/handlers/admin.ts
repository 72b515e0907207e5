/** Management of API key clients (docs/security.md): /admin/clients and /admin/clients/{clientId}. */
import { ClientsService } from '../auth/clients-service';
import { createClientStore } from '../storage/factory/client-store';
import { functionServices } from './function-services';
import { dicomwebHandler, type Operations } from '../http/middleware';
import type { Services } from './services';

/** The clients service, which only a process with the clients table has. */
function clientsOf(s: Pick<Services, 'clients'>): ClientsService {
  if (!s.clients) throw new Error('the API key clients are not configured: CLIENTS_TABLE_NAME is not set');
  return s.clients;
}

export const operations: Operations<'admin', Pick<Services, 'clients'>> = {
  AddClient: (req, s) => clientsOf(s).add({ contentType: req.headers['content-type'], accept: req.headers.accept, body: req.body }),
  ListClients: (req, s) => clientsOf(s).list({ accept: req.headers.accept }),
  RevokeClient: (req, s) => clientsOf(s).revoke(req.pathParameters.clientId!),
};

/** The clients table alone: no bucket, no archive table. */
export const handler = dicomwebHandler(
  'admin',
  operations,
  functionServices((cfg, { clientStore }) => ({ clients: new ClientsService(clientStore ?? createClientStore(cfg)) })),
);
