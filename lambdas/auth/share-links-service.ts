/**
 * Management of share links (docs/security.md, "Share links"), behind /admin/shares: create one for a
 * stored study (its token answered once, only the hash of its secret kept), list them without their
 * hashes, revoke one. A link opens the archive's viewer on its study: `<base>/viewer/viewer?
 * StudyInstanceUIDs=<uid>&token=<token>`; the OHIF Viewer sends the token as a bearer token on every
 * DICOMweb request and removes it from the address bar.
 */
import { isValidUid } from '../dicom/uid';
import { BadRequestError, NotFoundError } from '../dicomweb/errors';
import type { DicomwebResponse } from '../dicomweb/messages';
import { AlreadyExistsError } from '../storage/errors';
import type { MetadataIndex, ShareLink, ShareLinkStore } from '../storage/ports';
import { json, negotiateJson, readJsonObject, type AdminRequest } from './admin-json';
import { CREDENTIAL_ID_PATTERN, hashSecret, type IssuedCredential } from './api-keys';
import { forgetShareLink } from './authenticate';
import { formatLifetime, LIFETIME_GRAMMAR, newShareToken, parseLifetime } from './share-tokens';

/** A link's lifetime when the request names none. */
export const DEFAULT_SHARE_LIFETIME = '7d';
/** The note is a short text for people (for whom, why). */
const MAX_NOTE_LENGTH = 500;
/** Ids drawn again when a new one is taken (36^12 ids: a second collision is not expected). */
const MAX_ID_ATTEMPTS = 3;
const CREATE_SHAPE = '{"study": "<StudyInstanceUID>", "expires": "7d", "note": "..."}';

/** A link as the admin routes show it: never its secret's hash. */
export type ShareLinkView = Omit<ShareLink, 'secretHash'> & { readonly state: 'active' | 'expired' | 'revoked' };
/**
 * The answer to a create: the link and, this once, its token and the viewer's address with it;
 * `unrestricted` when the archive checks no credential (AUTH none or iam embedded), so that whoever
 * reaches it reads every study with or without the link.
 */
export type CreatedShareLink = ShareLinkView & { readonly token: string; readonly link: string; readonly unrestricted?: true };

export interface CreateShareRequest extends AdminRequest {
  /** The service root the viewer is served under (DicomwebRequest.baseUrl). */
  readonly baseUrl: string;
  /** Who asks (`mechanism:principal`, DicomwebRequest.principal). */
  readonly createdBy: string;
}

export interface ShareLinksServiceOptions {
  /** The longest lifetime of a link, in seconds (SHARE_MAX_EXPIRY). */
  readonly maxLifetimeSeconds: number;
  /** False when the archive checks no credential (lambdas/auth/authenticate.ts checksCredentials). */
  readonly checksCredentials: boolean;
  /** The viewer's public address (VIEWER_URL); `/viewer/` under the request's base URL by default. */
  readonly viewerUrl?: string;
  readonly now?: () => Date;
  readonly newToken?: () => IssuedCredential;
}

/** The viewer's address opening `study` with `token` (the viewer is served under /viewer/ of the base). */
/**
 * The link: OHIF's viewer route on the study, with the token OHIF sends as a bearer token. `viewerUrl`
 * is where the viewer is served (VIEWER_URL), `/viewer/` under the service's base URL by default.
 */
export function viewerLink(baseUrl: string, study: string, token: string, viewerUrl?: string): string {
  const query = new URLSearchParams({ StudyInstanceUIDs: study, token });
  const viewer = viewerUrl ?? `${baseUrl.replace(/\/+$/, '')}/viewer/`;
  return `${viewer.replace(/\/*$/, '/')}viewer?${query.toString()}`;
}

export class ShareLinksService {
  private readonly now: () => Date;
  private readonly newToken: () => IssuedCredential;

  constructor(
    private readonly store: ShareLinkStore,
    private readonly index: Pick<MetadataIndex, 'getStudy'>,
    private readonly opts: ShareLinksServiceOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
    this.newToken = opts.newToken ?? newShareToken;
  }

  /** 201 with the link, its token and its address; 404 for a study the archive does not hold. */
  async create(req: CreateShareRequest): Promise<DicomwebResponse> {
    negotiateJson(req.accept);
    const { study, lifetimeSeconds, note } = this.parseCreate(
      await readJsonObject(req, 'a share link request', CREATE_SHAPE, ['study', 'expires', 'note']),
    );
    if (!(await this.index.getStudy(study))) {
      throw new NotFoundError('the archive holds no study with this StudyInstanceUID', [{ target: 'study', message: study }]);
    }
    const created = this.now();
    for (let attempt = 1; ; attempt++) {
      const token = this.newToken();
      const link: ShareLink = {
        id: token.id,
        secretHash: hashSecret(token.secret),
        studyInstanceUID: study,
        createdAt: created.toISOString(),
        createdBy: req.createdBy,
        expiresAt: new Date(created.getTime() + lifetimeSeconds * 1000).toISOString(),
        ...(note !== undefined && { note }),
        useCount: 0,
      };
      try {
        await this.store.create(link);
      } catch (error) {
        if (error instanceof AlreadyExistsError && attempt < MAX_ID_ATTEMPTS) continue;
        throw error;
      }
      const answer: CreatedShareLink = {
        ...this.view(link),
        token: token.key,
        link: viewerLink(req.baseUrl, study, token.key, this.opts.viewerUrl),
        ...(!this.opts.checksCredentials && { unrestricted: true }),
      };
      // The token is a credential: no cache keeps it (RFC 9111 5.2.2.5).
      return json(201, answer, { 'Cache-Control': 'no-store' });
    }
  }

  /** 200 with every link, oldest first, expired and revoked ones included. */
  async list(req: { readonly accept: string | undefined }): Promise<DicomwebResponse> {
    negotiateJson(req.accept);
    return json(200, { shares: (await this.store.list()).map((l) => this.view(l)) });
  }

  /** 204 once revoked (again: the first time stands); 404 for no such link. */
  async revoke(shareId: string): Promise<DicomwebResponse> {
    const known = CREDENTIAL_ID_PATTERN.test(shareId) && (await this.store.revoke(shareId, this.now().toISOString()));
    if (!known) throw new NotFoundError('there is no share link with this id', [{ target: 'shareId', message: shareId.slice(0, 64) }]);
    forgetShareLink(shareId);
    return { status: 204 };
  }

  private view(link: ShareLink): ShareLinkView {
    const { secretHash: _secretHash, ...rest } = link;
    const state = link.revokedAt ? 'revoked' : Date.parse(link.expiresAt) <= this.now().getTime() ? 'expired' : 'active';
    return { ...rest, state };
  }

  private parseCreate(body: Record<string, unknown>): { study: string; lifetimeSeconds: number; note?: string } {
    const { study, expires = DEFAULT_SHARE_LIFETIME, note } = body;
    if (typeof study !== 'string' || !isValidUid(study)) {
      throw new BadRequestError('invalid study', [{ target: 'study', message: 'a StudyInstanceUID (PS3.5 9.1)' }]);
    }
    const lifetimeSeconds = typeof expires === 'string' ? parseLifetime(expires) : undefined;
    if (lifetimeSeconds === undefined) throw new BadRequestError('invalid expires', [{ target: 'expires', message: LIFETIME_GRAMMAR }]);
    if (lifetimeSeconds > this.opts.maxLifetimeSeconds) {
      const most = formatLifetime(this.opts.maxLifetimeSeconds);
      throw new BadRequestError('the link would live too long', [{ target: 'expires', message: `at most ${most} (SHARE_MAX_EXPIRY)` }]);
    }
    if (note !== undefined && (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH)) {
      throw new BadRequestError('invalid note', [{ target: 'note', message: `a text of at most ${MAX_NOTE_LENGTH} characters` }]);
    }
    return { study, lifetimeSeconds, ...(note !== undefined && { note }) };
  }
}
