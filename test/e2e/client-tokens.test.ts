/**
 * e2e: the project's own clients get OAuth 2.0 tokens with the client credentials grant (RFC 6749 4.4)
 * from a real OpenID provider in process, for archives that require them (AUTH=oidc):
 * (a) `npm run send` (lib/cli/send.ts main) asks A to send to B, with --client-credentials;
 * (b) Deliver: A's registry has B as an `oauth2` destination, a SEND-RS Send from A completes at B;
 * (c) the DIMSE Move proxy of a third archive P turns a C-MOVE into a Send at A with client credentials.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid } from '../../lambdas/dicom/uid';
import { CMoveRequest, Client } from '../../lambdas/dimse/lib';
import { decodeSendRequestResponse, SendStatus } from '../../lambdas/send/response-module';
import { main as send } from '../../lib/cli/send';
import { main as smoke } from '../../lib/cli/smoke';
import { makeStudy } from '../support/dicom-factory';
import { DICOM_JSON, stowBody, tempArchive } from '../support/http';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';

type Archive = Awaited<ReturnType<typeof tempArchive>>;
type Study = ReturnType<typeof makeStudy>;

let idp: TestOidcProvider;
let a: Archive;
let b: Archive;
let p: Archive;
let registryDir: string;
const forCli = makeStudy({ series: 1, instancesPerSeries: 3, patientID: `CC-CLI-${Date.now()}` });
const forDeliver = makeStudy({ series: 2, instancesPerSeries: 2, patientID: `CC-DELIVER-${Date.now()}` });
const forPost = makeStudy({ series: 1, instancesPerSeries: 2, patientID: `CC-POST-${Date.now()}` });
const forMove = makeStudy({ series: 1, instancesPerSeries: 2, patientID: `CC-MOVE-${Date.now()}` });

async function bearer(scope: string): Promise<string> {
  const { access_token } = await idp.clientCredentialsToken({ ...idp.machineClient, scope });
  return `Bearer ${access_token}`;
}

/** Instances of the study that `archive` holds (a read token of the provider). */
async function instancesIn(archive: Archive, study: Study): Promise<number> {
  const res = await fetch(`${archive.url}/studies/${study.studyInstanceUID}/instances`, {
    headers: { Accept: DICOM_JSON, Authorization: await bearer('read') },
  });
  return res.status === 200 ? ((await res.json()) as unknown[]).length : 0;
}

beforeAll(async () => {
  // The provider's second client authenticates with client_secret_post; here it may only write.
  idp = await startOidcProvider({ readOnlyScopes: 'write' });
  const oidc = { AUTH: 'oidc', OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience };
  b = await tempArchive({ env: oidc });
  registryDir = await mkdtemp(path.join(os.tmpdir(), 'client-tokens-'));
  // A delivers to B with tokens of the `write` scope, fetched with client_secret_basic.
  const registry = path.join(registryDir, 'a-destinations.json');
  const oauth2 = { type: 'oauth2', tokenUrl: `${idp.issuer}/token`, clientId: idp.machineClient.clientId, scope: 'write' };
  await writeFile(
    registry,
    JSON.stringify({
      destinations: [
        { url: b.url, auth: { ...oauth2, clientSecret: idp.machineClient.secret } },
        // B's Studies service by its own URL: the client that authenticates in the request body.
        {
          url: `${b.url}/studies`,
          auth: {
            type: 'oauth2',
            tokenUrl: `${idp.issuer}/token`,
            clientId: idp.readOnlyClient.clientId,
            clientSecret: idp.readOnlyClient.secret,
            scope: 'write',
            tokenEndpointAuthMethod: 'client_secret_post',
          },
        },
        // The same archive under another path, with a wrong secret: Deliver cannot get a token.
        { url: `${b.url}/wrong-secret`, auth: { ...oauth2, clientSecret: 'not-the-secret' } },
      ],
    }),
  );
  a = await tempArchive({
    dimsePort: 0,
    env: { ...oidc, DESTINATIONS_FILE: registry, SEND_WAIT_MS: '1', SEND_RETRY_AFTER_SECONDS: '1' },
  });
  // P: a DIMSE gateway whose C-MOVEs become Sends at A, authenticated with client credentials.
  p = await tempArchive({
    dimsePort: 0,
    env: {
      DIMSE_AET: 'PROXY',
      DIMSE_MOVE_PROXY_ORIGIN: a.url,
      DIMSE_MOVE_PROXY_TOKEN_URL: `${idp.issuer}/token`,
      DIMSE_MOVE_PROXY_CLIENT_ID: idp.machineClient.clientId,
      DIMSE_MOVE_PROXY_CLIENT_SECRET: idp.machineClient.secret,
      DIMSE_MOVE_PROXY_SCOPE: 'send',
    },
  });
  await writeFile(
    path.join(p.dataDir, 'destinations.json'),
    JSON.stringify({ destinations: [{ url: b.url, aeTitle: 'BWEB', host: '127.0.0.1', port: 9, subOperations: ['stow'] }] }),
  );
  for (const study of [forCli, forDeliver, forPost, forMove]) {
    const { body, contentType } = stowBody(study.instances.map((i) => i.bytes));
    const stored = await fetch(`${a.url}/studies`, {
      method: 'POST',
      headers: { 'Content-Type': contentType, Accept: DICOM_JSON, Authorization: await bearer('write') },
      body,
    });
    expect(stored.status).toBe(200);
  }
}, 60_000);

afterAll(async () => {
  await p?.close();
  await a?.close();
  await b?.close();
  await idp?.close();
  if (registryDir) await rm(registryDir, { recursive: true, force: true });
});

function terminal() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

describe('(a) npm run send --client-credentials', () => {
  const args = (study: Study) => [
    '--origin',
    a.url,
    '--destination',
    b.url,
    '--study',
    study.studyInstanceUID,
    '--no-progress',
    '--max-wait',
    '20',
  ];

  it('gets a token for the send scope and A sends the study to B', async () => {
    const term = terminal();
    const env = { DICOMWEB_CLIENT_ID: idp.machineClient.clientId, DICOMWEB_CLIENT_SECRET: idp.machineClient.secret };
    const code = await send([...args(forCli), '--client-credentials', '--token-url', `${idp.issuer}/token`, '--scope', 'send'], term.io, {
      env,
    });
    expect(code, term.stdout() + term.stderr()).toBe(0);
    expect(term.stdout()).toContain('completed 3  warning 0  failed 0');
    expect(await instancesIn(b, forCli)).toBe(3);
  }, 30_000);

  it('without credentials: exit 1 with the 401 and its Status Report', async () => {
    const term = terminal();
    expect(await send(args(forCli), term.io, { env: {} })).toBe(1);
    expect(term.stderr()).toMatch(/answered 401/);
    expect(term.stderr()).toContain('check: --token (or DICOMWEB_TOKEN), or --client-credentials with --token-url');
  });

  it('a wrong client secret: exit 1 saying the token endpoint refused the client, the secret not shown', async () => {
    const term = terminal();
    const env = { DICOMWEB_CLIENT_ID: idp.machineClient.clientId, DICOMWEB_CLIENT_SECRET: 'not-the-secret' };
    const code = await send([...args(forCli), '--client-credentials', '--token-url', `${idp.issuer}/token`, '--scope', 'send'], term.io, {
      env,
    });
    expect(code).toBe(1);
    expect(term.stderr()).toContain('invalid_client: the client id or secret is not accepted');
    expect(term.stderr()).not.toContain('not-the-secret');
  });
});

describe('(a) npm run smoke --client-credentials', () => {
  it('every step green against A, the study verified at B with the same tokens', async () => {
    const term = terminal();
    const env = { DICOMWEB_CLIENT_ID: idp.machineClient.clientId, DICOMWEB_CLIENT_SECRET: idp.machineClient.secret, NO_COLOR: '1' };
    const argv = ['--url', a.url, '--destination', b.url, '--verify-destination', '--max-wait', '20'];
    const cc = ['--client-credentials', '--token-url', `${idp.issuer}/token`, '--scope', 'read write delete send'];
    const code = await smoke([...argv, ...cc], term.io, { env });
    expect(code, term.stdout()).toBe(0);
    expect(term.stdout()).toContain('(auth: client-credentials)');
    expect(term.stdout()).toMatch(/all \d+ steps that ran passed/);
  }, 30_000);
});

/** Send (Sup 248 10.X) from A, then Check Send Result (10.Y) until it is final. */
async function sendFromA(study: Study, destination: string) {
  const auth = await bearer('send');
  const uid = newUid();
  const target = `${a.url}/studies/${study.studyInstanceUID}/series/send-requests/${uid}`;
  const started = await fetch(`${target}?destination=${encodeURIComponent(destination)}`, {
    method: 'POST',
    headers: { Accept: DICOM_JSON, Authorization: auth },
  });
  expect([200, 202]).toContain(started.status);
  for (let i = 0; i < 40; i++) {
    const check = await fetch(target, { headers: { Accept: DICOM_JSON, Authorization: auth } });
    if (check.status === 200) return decodeSendRequestResponse(await check.json());
    expect(check.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the Send did not finish');
}

describe('(b) Deliver to an oauth2 destination', () => {
  it('a Send from A to B completes: Check Send Result 0000, B has every instance', async () => {
    const result = await sendFromA(forDeliver, b.url);
    expect(result).toMatchObject({ status: SendStatus.Success, completed: 4, failed: 0, warning: 0 });
    expect(await instancesIn(b, forDeliver)).toBe(4);
  }, 30_000);

  it('the same with client_secret_post: Check Send Result 0000', async () => {
    const result = await sendFromA(forPost, `${b.url}/studies`);
    expect(result).toMatchObject({ status: SendStatus.Success, completed: 2, failed: 0, warning: 0 });
    expect(await instancesIn(b, forPost)).toBe(2);
  }, 30_000);

  it('a destination whose client secret is wrong: every sub-operation failed (A702)', async () => {
    const result = await sendFromA(forDeliver, `${b.url}/wrong-secret`);
    expect(result).toMatchObject({ status: SendStatus.UnableToPerformSubOperations, completed: 0, failed: 4 });
  }, 30_000);
});

describe('(c) the DIMSE Move proxy with client credentials', () => {
  it('a C-MOVE at P becomes a Send at A (token of P) that reaches B', async () => {
    const request = CMoveRequest.createStudyMoveRequest('BWEB', forMove.studyInstanceUID);
    const statuses: number[] = [];
    request.on('response', (r: { getStatus(): number }) => statuses.push(r.getStatus()));
    const client = new Client();
    client.addRequest(request);
    await new Promise<void>((resolve, reject) => {
      client.on('closed', () => resolve());
      client.on('networkError', (error: Error) => reject(error));
      client.send('127.0.0.1', p.dimse!.port, 'MOVER', 'PROXY');
    });
    expect(statuses.at(-1)).toBe(0x0000);
    expect(await instancesIn(b, forMove)).toBe(2);
  }, 30_000);
});
