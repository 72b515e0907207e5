/**
 * AWS Signature Version 4 for requests to an API Gateway REST API whose methods use IAM authorization
 * (API Gateway Developer Guide, "Control access to a REST API with IAM permissions"): the signing is
 * @smithy/signature-v4's, the same code the AWS SDK signs with; this module only adapts a fetch request
 * to it and supplies SHA-256 from node:crypto.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** Credentials as the AWS SDK's providers resolve them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The request to sign, as fetch will send it. */
export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** Gives the headers to send: the request's own plus Host, X-Amz-Date, X-Amz-Security-Token, Authorization. */
export type RequestSigner = (request: SignableRequest, signingDate?: Date) => Promise<Record<string, string>>;

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The Checksum SignatureV4 expects (SHA-256, HMAC-SHA-256 when given a key), over node:crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** The region of an execute-api host (`{api-id}.execute-api.{region}.amazonaws.com[.cn]`), if it is one. */
export function regionOfExecuteApiHost(hostname: string): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/i.exec(hostname)?.[1];
}

export function sigV4Signer(opts: {
  readonly region: string;
  /** The signing name of the service: execute-api for API Gateway. */
  readonly service?: string;
  readonly credentials: AwsCredentials | (() => Promise<AwsCredentials>);
}): RequestSigner {
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: opts.service ?? 'execute-api',
    sha256: NodeSha256,
    // execute-api reads no X-Amz-Content-Sha256; the payload hash is in the signature all the same.
    applyChecksum: false,
  });
  return async (request, signingDate) => {
    const { url } = request;
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? values[0]! : values;
    }
    const signed = await signer.sign(
      {
        method: request.method.toUpperCase(),
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { ...request.headers, host: url.host },
        ...(request.body ? { body: request.body } : {}),
      },
      signingDate ? { signingDate } : {},
    );
    return { ...signed.headers };
  };
}
