/**
 * Signed URLs of the local engine's direct transfers (docs/uploads.md), served by the embedded
 * gateway under /_transfer/: what S3's presigned URLs are in AWS. The signature is HMAC-SHA256, with
 * a secret kept in DATA_DIR (created 0600 on first use), over the method, the path and every other
 * query parameter in a fixed order; `expires` (epoch seconds) is among them, so it cannot be moved.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Where the gateway serves the transfers, relative to the archive's base URL. */
export const TRANSFER_PATH = '/_transfer';

/** The secret of the data directory at `path`: read, or made (32 random bytes, mode 0600) when missing. */
export async function transferSecret(path: string): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process made it first: theirs stands.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
}

export class TransferSigner {
  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  /** `path?params&expires=..&signature=..`, valid for `expiresInSeconds`. */
  sign(method: string, path: string, params: Readonly<Record<string, string>>, expiresInSeconds: number): string {
    const expires = String(Math.floor(this.now() / 1000) + Math.max(1, Math.floor(expiresInSeconds)));
    const query = new URLSearchParams({ ...params, expires });
    query.set('signature', this.mac(method, path, query));
    return `${path}?${query.toString()}`;
  }

  /** 'valid', or why not: 'expired' or 'forged' (a bad or missing signature). */
  verify(method: string, path: string, query: URLSearchParams): 'valid' | 'expired' | 'forged' {
    const given = Buffer.from(query.get('signature') ?? '', 'base64url');
    const expected = Buffer.from(this.mac(method, path, query), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
    const expires = Number(query.get('expires'));
    return Number.isFinite(expires) && expires * 1000 > this.now() ? 'valid' : 'expired';
  }

  private mac(method: string, path: string, query: URLSearchParams): string {
    const signed = [...query.entries()].filter(([name]) => name !== 'signature').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const text = JSON.stringify([method.toUpperCase(), path, signed]);
    return createHmac('sha256', this.secret).update(text).digest('base64url');
  }
}
