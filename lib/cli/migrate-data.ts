/**
 * `npm run migrate-data -- --from DIR --to NEW_DIR`: copies an embedded archive's data directory of
 * the emulator layout (STORAGE=aws-emulators: s3/, dynamodb/) into a new directory of the local
 * engine (STORAGE=local), as lib/local/migrate-data.ts describes. Stop the archive on DIR first; DIR
 * is left as it was. Settings the old archive ran with (INDEX_SHARDS, BULKDATA_THRESHOLD) are read
 * from the environment.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { migrateEmulatorData } from '../local/migrate-data';

export const USAGE = 'Usage: npm run migrate-data -- --from DATA_DIR_OF_THE_EMULATORS --to NEW_DATA_DIR';

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { from: { type: 'string' }, to: { type: 'string' } } });
  if (!values.from || !values.to) {
    console.error(USAGE);
    return 1;
  }
  const env: Record<string, string> = {};
  for (const name of ['INDEX_SHARDS', 'BULKDATA_THRESHOLD']) if (process.env[name]) env[name] = process.env[name]!;
  try {
    const report = await migrateEmulatorData({ from: values.from, to: values.to, env, log: (line) => console.log(line) });
    console.log(`Serve it with: STORAGE=local DATA_DIR=${values.to} npm start`);
    return report.failed.length ? 2 : 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
