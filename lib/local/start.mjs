/**
 * `npm start`: builds the embedded archive (./archive-build.mjs) and runs it in this process, with
 * the flags package.json gives node (./node-flags.ts). What it serves and how: ./main.ts.
 */
import { pathToFileURL } from 'node:url';
import { buildArchive } from './archive-build.mjs';

await import(pathToFileURL(await buildArchive()).href);
