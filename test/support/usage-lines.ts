/**
 * Usage lines (lambdas/http/usage-log.ts) written by the real Store and Retrieve handlers over the
 * in-memory adapters, as the functions write them in Lambda: each request an API Gateway proxy event
 * authenticated as `client` (an API-Gateway-authorizer context, as our authorizer passes it).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Readable } from 'node:stream';
import { loadConfig } from '../../lambdas/config';
import { RetrieveService } from '../../lambdas/dicomweb/retrieve';
import { StoreService } from '../../lambdas/dicomweb/store';
import { operations as retrieveOperations } from '../../lambdas/handlers/retrieve';
import { operations as storeOperations } from '../../lambdas/handlers/store';
import { dicomwebHandler } from '../../lambdas/http/middleware';
import type { ProxyResult } from '../../lambdas/http/proxy';
import type { UsageLine } from '../../lambdas/http/usage-log';
import { stowBody } from './http';
import { MemoryBlobStore } from './memory-blobs';
import { MemoryMetadataIndex } from './memory-index';
import { proxyEvent } from './proxy-event';

export const CLIENT_TOKEN = 'secret-token-never-logged';

export function usageArchive(env: Record<string, string> = {}) {
  const config = loadConfig({
    BUCKET_NAME: 'b',
    TABLE_NAME: 't',
    AUTH: 'oidc',
    OIDC_ISSUER: 'https://idp.invalid',
    OIDC_AUDIENCE: 'a',
    USAGE_LOG: 'true',
    ...env,
  });
  const index = new MemoryMetadataIndex();
  const blobs = new MemoryBlobStore();
  const services = {
    config,
    store: new StoreService(index, blobs, { bulkDataThreshold: 1024, maxRequestBytes: 50_000_000 }),
    retrieve: new RetrieveService(index, blobs, { maxResponseBytes: 50_000_000 }),
  };
  const lines: UsageLine[] = [];
  const write = (line: string) => lines.push(JSON.parse(line) as UsageLine);
  const store = dicomwebHandler('store', storeOperations, () => services);
  const retrieve = dicomwebHandler('retrieve', retrieveOperations, () => services);
  const authorizer = (client: string) => ({
    mechanism: 'oidc',
    principal: client,
    scopes: 'read write',
    expiresAt: String(Math.floor(Date.now() / 1000) + 60),
  });
  const call = async (handler: unknown, event: APIGatewayProxyEvent): Promise<ProxyResult & { bytes: Buffer }> => {
    const spy = console.log;
    console.log = (line: string) => write(line);
    try {
      const result = await (handler as (e: APIGatewayProxyEvent, c: object) => Promise<ProxyResult>)(event, {});
      let bytes: Buffer;
      if (result.body instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const c of result.body as AsyncIterable<Buffer>) chunks.push(c);
        bytes = Buffer.concat(chunks);
      } else bytes = Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
      return { ...result, bytes };
    } finally {
      console.log = spy;
    }
  };
  return {
    lines,
    /** Store Instances (POST /studies) of `files`, as `client`. */
    storeInstances: (client: string, files: readonly Uint8Array[]) => {
      const { body, contentType } = stowBody(files);
      const event = proxyEvent({
        method: 'POST',
        resource: '/studies',
        headers: { Host: 'archive.example.org', 'Content-Type': contentType, Authorization: `Bearer ${CLIENT_TOKEN}` },
        requestContext: { authorizer: authorizer(client), requestId: 'r-store' } as never,
      });
      return call(store, { ...event, body: body.toString('base64'), isBase64Encoded: true });
    },
    /** Retrieve Series as stored, as `client`. */
    retrieveSeries: (client: string, study: string, series: string) =>
      call(
        retrieve,
        proxyEvent({
          method: 'GET',
          resource: '/studies/{study}/series/{series}',
          pathParameters: { study, series },
          headers: {
            Host: 'archive.example.org',
            Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
            Authorization: `Bearer ${CLIENT_TOKEN}`,
          },
          requestContext: { authorizer: authorizer(client), requestId: 'r-retrieve' } as never,
        }),
      ),
  };
}
