/**
 * `npm run viewer:fetch`: fetches the OHIF Viewer's published build into the git-ignored cache
 * (lib/viewer/dist.ts), where `npm start` serves it under /viewer/ and the CDK stack deploys it from.
 */
import { pathToFileURL } from 'node:url';
import { ensureViewerDist } from '../viewer/dist';

export async function main(): Promise<number> {
  try {
    const dir = await ensureViewerDist({ log: (line) => console.log(line) });
    console.log(`The viewer's build is in ${dir}`);
    return 0;
  } catch (error) {
    console.error(`The viewer's build could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
