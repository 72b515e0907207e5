/**
 * Management of API key clients (docs/security.md), behind the admin routes /admin/clients: add one
 * (its key is answered once, only the hash of its secret is stored), list them without their hashes,
 * revoke one. JSON in and out (application/json, RFC 8259); bad input gets 400 with a Status Report.
 */
import { parseMediaType } from '../dicom/multipart';
import { mediaRangeMatches, parseAccept } from '../dicomweb/accept';
import { BadRequestError, NotAcceptableError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../dicomweb/errors';
import { MediaType, wholeBody, type DicomwebResponse, type RequestBody } from '../dicomweb/messages';
import { AlreadyExistsError } from '../storage/errors';
import type { ApiClient, ClientStore } from '../storage/ports';
import { hashSecret, newApiKey, type ApiKey } from './api-keys';
import { forgetApiKeyClient } from './authenticate';
import { parseScopes } from './scopes';

/** A client's name: what the operator calls it, and the user name of HTTP Basic (RFC 7617 forbids ':'). */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** An add request is a small JSON object; anything larger is not one. */
export const MAX_ADD_REQUEST_BYTES = 16 * 1024;
/** The id part of a key (lambdas/auth/api-keys.ts). */
const CLIENT_ID_PATTERN = /^[a-z0-9]{12}$/;
/** Ids drawn again when a new one is taken (36^12 ids: a second collision is not expected). */
const MAX_ID_ATTEMPTS = 3;

/** A client as the admin routes show it: never its secret's hash. */
export type ClientView = Omit<ApiClient, 'secretHash'>;
/** The answer to an add: the client and, this once, its key. */
export type AddedClient = ClientView & { readonly key: string };

export interface AddClientRequest {
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly body: RequestBody;
}

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
    const { name, scopes } = parseAddRequest(req.contentType, await readBody(req.body));
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
    const known = CLIENT_ID_PATTERN.test(clientId) && (await this.store.revoke(clientId, this.now().toISOString()));
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

function json(status: number, payload: unknown, headers: Record<string, string> = {}): DicomwebResponse {
  return { status, headers: { ...headers, 'Content-Type': MediaType.Json }, body: JSON.stringify(payload) };
}

/** The admin routes answer application/json only (RFC 9110 12.5.1: no Accept means anything). */
function negotiateJson(accept: string | undefined): void {
  if (parseAccept({ accept }).some((r) => mediaRangeMatches(r.mediaType, MediaType.Json))) return;
  throw new NotAcceptableError(`the admin routes answer ${MediaType.Json} only`, [{ target: 'Accept', message: accept ?? '' }]);
}

function readBody(body: RequestBody): Promise<Uint8Array> {
  return wholeBody(
    body,
    MAX_ADD_REQUEST_BYTES,
    () => new PayloadTooLargeError(`an add client request is at most ${MAX_ADD_REQUEST_BYTES} bytes`),
  );
}

/** `{"name": "...", "scopes": "read,write"}` (scopes also as an array of names). */
function parseAddRequest(contentType: string | undefined, bytes: Uint8Array): { name: string; scopes: string[] } {
  if (!contentType || parseMediaType(contentType).mediaType !== MediaType.Json) {
    throw new UnsupportedMediaTypeError(`an add client request is ${MediaType.Json}: {"name": "...", "scopes": ["read", ...]}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new BadRequestError('the request body is not JSON (RFC 8259)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('the request body is a JSON object: {"name": "...", "scopes": ["read", ...]}');
  }
  const { name, scopes, ...others } = value as Record<string, unknown>;
  const unknown = Object.keys(others);
  if (unknown.length) {
    throw new BadRequestError(
      'unknown field in the request',
      unknown.slice(0, 10).map((f) => ({ target: f.slice(0, 64), message: 'not a field of a client; fields are name and scopes' })),
    );
  }
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
