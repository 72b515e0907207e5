/**
 * A process of its own writing to a local engine index database, for the race between processes
 * (test/integration/local-engine/metadata-index.test.ts): at `startAt` (epoch ms) it stores each
 * instance of the study given, in the order given, and prints one line of JSON: its putInstance
 * outcomes by SOP Instance UID and which
 * ensureStudy / ensureSeries calls created their entry.
 *
 *   tsx test/support/sqlite-index-writer.ts <database> <startAt> <study> <series> <digest> <sop>...
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { closeSqlite } from '../../lambdas/storage/local/sqlite';
import { openIndexDatabase, SqliteMetadataIndex } from '../../lambdas/storage/local/sqlite-index';
import { instanceEntry, seriesEntry, studyEntry } from '../contract/metadata-index.contract';

const [path, startAt, study, series, digest, ...sopUids] = process.argv.slice(2);
const db = openIndexDatabase(path!);
const index = new SqliteMetadataIndex(db);
await sleep(Math.max(0, Number(startAt) - Date.now()));
const outcomes: Record<string, string> = {};
const created = { study: false, series: false };
for (const sop of sopUids) {
  created.study = (await index.ensureStudy(studyEntry(study!))) || created.study;
  created.series = (await index.ensureSeries(seriesEntry(study!, series!))) || created.series;
  const outcome = await index.putInstance(instanceEntry(study!, series!, sop, digest));
  if (outcome.outcome === 'created') await index.addSeriesCounters(study!, series!, { instances: 1 });
  outcomes[sop] = outcome.outcome;
}
closeSqlite(db);
process.stdout.write(`${JSON.stringify({ outcomes, created })}\n`);
