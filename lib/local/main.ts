/**
 * `npm start`: the archive embedded on this machine, no AWS account and no Docker.
 *   STORAGE    local (default: the local engine, files and SQLite) or aws-emulators (the AWS
 *              adapters on in-process s3rver and dynalite); lib/local/data-layout.ts
 *   DATA_DIR   where data is kept (default ./.data); restarting keeps it. A directory of the other
 *              STORAGE's layout is refused, naming the command to serve or migrate it
 *   PORT       HTTP port (default 8080), bound to 127.0.0.1 (HOST to change)
 *   DESTINATIONS_FILE  SEND-RS destination registry (default ${DATA_DIR}/destinations.json)
 *   DIMSE_PORT, DIMSE_AET  DIMSE gateway port and AE Title (default 11112, ARCHIVE), bound like PORT
 *   AUTH       none (default; loopback only), token (AUTH_TOKEN), api-keys, oidc (OIDC_ISSUER, OIDC_AUDIENCE,
 *              OIDC_SCOPE_PREFIX, OIDC_JWKS_URI); see lambdas/config.ts
 *   VIEWER     off: no OHIF Viewer at /viewer/ (default on: fetched on first start, docs/viewer.md)
 *   VIEWER_CACHE_DIR  where the viewer's build is kept (default .cache/ohif-app-<version>)
 *   any other variable of lambdas/config.ts (e.g. AUTH_TOKEN, MAX_REQUEST_BYTES, SEND_BATCH_SIZE)
 */
import path from 'node:path';
import { startArchive } from './archive';
import { archiveStorage } from './data-layout';
import { PASSED_VARIABLES } from './variables';
import { ensureViewerDist, VIEWER_FETCH_COMMAND } from '../viewer/dist';
import { jpeg2000Decoder } from '../../lambdas/dicom/render/codecs/jpeg2000';

/**
 * The viewer's build, fetched on first start; a failed fetch leaves the archive serving, with
 * /viewer/ answering 503 and the command to run.
 */
async function viewerBuild(): Promise<{ dist?: string; unavailableReason?: string } | undefined> {
  if (process.env.VIEWER === 'off') return undefined;
  try {
    const cacheDir = process.env.VIEWER_CACHE_DIR ? path.resolve(process.env.VIEWER_CACHE_DIR) : undefined;
    return { dist: await ensureViewerDist({ log: (line) => console.log(line), ...(cacheDir && { cacheDir }) }) };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    console.error(`The OHIF Viewer could not be fetched (${reason}); /viewer/ answers 503 until \`${VIEWER_FETCH_COMMAND}\` succeeds`);
    return { unavailableReason: 'the fetch failed at start' };
  }
}

async function main(): Promise<void> {
  const env: Record<string, string> = {};
  for (const name of PASSED_VARIABLES) if (process.env[name]) env[name] = process.env[name]!;
  const viewer = await viewerBuild();
  const archive = await startArchive({
    dataDir: path.resolve(process.env.DATA_DIR ?? '.data'),
    storage: archiveStorage(process.env.STORAGE),
    port: Number(process.env.PORT ?? 8080),
    // DIMSE gateway (lambdas/dimse): DIMSE_PORT (default 11112), AE Title DIMSE_AET (default ARCHIVE).
    dimsePort: Number(process.env.DIMSE_PORT ?? 11112),
    host: process.env.HOST ?? '127.0.0.1',
    env,
    ...(viewer && { viewer }),
  });
  console.log(`DICOMweb archive ready at ${archive.url}`);
  console.log(`  Studies service: ${archive.url}/studies`);
  if (viewer) console.log(`  OHIF Viewer: ${archive.url}/viewer/`);
  if (archive.dimse) console.log(`  DIMSE gateway: AE ${archive.dimse.aeTitle} on port ${archive.dimse.port}`);
  // The render threads load the same: the install's OpenJPEG addon (codecs/openjpeg-native) if built.
  console.log(`  JPEG 2000 decoder: ${await jpeg2000Decoder()}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, stopping`);
    await archive.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
