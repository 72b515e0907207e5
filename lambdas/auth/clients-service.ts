/**
 * Management of API key clients (docs/security.md), behind the admin routes /admin/clients: add one
 * (its key is answered once, only the hash of its secret is stored), list them without their hashes,
 * revoke one. JSON in and out (application/json, RFC 8259); bad input gets 400 with a Status Report.
 */
import { BadRequestError, NotFoundError } from '../dicomweb/errors';
import type { DicomwebResponse } from '../dicomweb/messages';
import { AlreadyExistsError } from '../storage/errors';
import type { ApiClient, ClientStore } from '../storage/ports';
import { json, MAX_ADMIN_REQUEST_BYTES, negotiateJson, readJsonObject, type AdminRequest } from './admin-json';
import { CREDENTIAL_ID_PATTERN, hashSecret, newApiKey, type ApiKey } from './api-keys';
import { forgetApiKeyClient } from './authenticate';
import { parseScopes } from './scopes';

/** A client's name: what the operator calls it, and the user name of HTTP Basic (RFC 7617 forbids ':'). */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** An add request is a small JSON object; anything larger is not one. */
export const MAX_ADD_REQUEST_BYTES = MAX_ADMIN_REQUEST_BYTES;
/** Ids drawn again when a new one is taken (36^12 ids: a second collision is not expected). */
const MAX_ID_ATTEMPTS = 3;

/** A client as the admin routes show it: never its secret's hash. */
export type ClientView = Omit<ApiClient, 'secretHash'>;
/** The answer to an add: the client and, this once, its key. */
export type AddedClient = ClientView & { readonly key: string };

export type AddClientRequest = AdminRequest;

export interface ClientsServiceOptions {
  readonly now?: () => Date;
  readonly newKey?: () => ApiKey;
}

export class ClientsService {
  private readonly now: () => Date;
  private readonly newKey: () => ApiKey;

  constructor(
    private readonly store: ClientStore,
    opts: ClientsServiceOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.newKey = opts.newKey ?? newApiKey;
  }

  /** 201 with the client and its key; the key is not kept and cannot be shown again. */
  async add(req: AddClientRequest): Promise<DicomwebResponse> {
    negotiateJson(req.accept);
    const { name, scopes } = await parseAddRequest(req);
    const createdAt = this.now().toISOString();
    for (let attempt = 1; ; attempt++) {
      const key = this.newKey();
      const client: ApiClient = { id: key.id, name, scopes, secretHash: hashSecret(key.secret), createdAt };
      try {
        await this.store.create(client);
      } catch (error) {
        if (error instanceof AlreadyExistsError && attempt < MAX_ID_ATTEMPTS) continue;
        throw error;
      }
      const added: AddedClient = { ...view(client), key: key.key };
      // The key is a credential: no cache keeps it (RFC 9111 5.2.2.5).
      return json(201, added, { 'Cache-Control': 'no-store' });
    }
  }

  /** 200 with every client, oldest first, revoked ones included. */
  async list(req: { readonly accept: string | undefined }): Promise<DicomwebResponse> {
    negotiateJson(req.accept);
    return json(200, { clients: (await this.store.list()).map(view) });
  }

  /** 204 once revoked (again: the first time stands); 404 for no such client. */
  async revoke(clientId: string): Promise<DicomwebResponse> {
    const known = CREDENTIAL_ID_PATTERN.test(clientId) && (await this.store.revoke(clientId, this.now().toISOString()));
    if (!known)
      throw new NotFoundError('there is no API key client with this id', [{ target: 'clientId', message: clientId.slice(0, 64) }]);
    forgetApiKeyClient(clientId);
    return { status: 204 };
  }
}

function view(client: ApiClient): ClientView {
  const { secretHash: _secretHash, ...rest } = client;
  return rest;
}

/** `{"name": "...", "scopes": "read,write"}` (scopes also as an array of names). */
async function parseAddRequest(req: AddClientRequest): Promise<{ name: string; scopes: string[] }> {
  const shape = '{"name": "...", "scopes": ["read", ...]}';
  const { name, scopes } = await readJsonObject(req, 'an add client request', shape, ['name', 'scopes']);
  if (typeof name !== 'string' || !CLIENT_NAME_PATTERN.test(name)) {
    throw new BadRequestError('invalid client name', [
      { target: 'name', message: '1 to 64 characters of A-Z, a-z, 0-9, ".", "_" and "-"' },
    ]);
  }
  return { name, scopes: scopesOf(scopes) };
}

function scopesOf(raw: unknown): string[] {
  const text = typeof raw === 'string' ? raw : Array.isArray(raw) && raw.every((s) => typeof s === 'string') ? raw.join(',') : undefined;
  if (text === undefined)
    throw new BadRequestError('invalid scopes', [{ target: 'scopes', message: 'a list of scope names, e.g. ["read", "write"]' }]);
  let scopes: string[];
  try {
    scopes = parseScopes(text);
  } catch (error) {
    throw new BadRequestError('invalid scopes', [{ target: 'scopes', message: (error as Error).message.slice(0, 300) }]);
  }
  if (scopes.length === 0)
    throw new BadRequestError('a client holds at least one scope', [{ target: 'scopes', message: 'e.g. ["read", "write"]' }]);
  return scopes;
}
