/**
 * `npm run index-names -- --table NAME [--region REGION] [--shards N] [--endpoint URL]`: writes the Patient's Name
 * terms (lambdas/storage/table-schema.ts) of every entry an archive stored before they existed, so
 * that PatientName searches find those entries too. Run once against a deployed table after
 * upgrading; idempotent, and safe while the archive serves (lambdas/storage/name-terms.ts).
 * The embedded runtime does the same by itself when it starts.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createDynamoDbClient } from '../../lambdas/storage/dynamodb-table';
import { ensureIndexNameTerms } from '../../lambdas/storage/factory/metadata-index';

export const USAGE = 'Usage: npm run index-names -- --table NAME [--region REGION] [--shards INDEX_SHARDS (default 8)] [--endpoint URL]';

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      table: { type: 'string' },
      region: { type: 'string' },
      shards: { type: 'string', default: '8' },
      endpoint: { type: 'string' },
    },
  });
  const shards = Number(values.shards);
  const region = values.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!values.table || !region || !Number.isInteger(shards) || shards < 1) {
    console.error(USAGE);
    return 1;
  }
  const cfg = { region, dynamodbEndpoint: values.endpoint, tableName: values.table, indexShards: shards };
  const dynamodb = createDynamoDbClient(cfg);
  try {
    const wrote = await ensureIndexNameTerms(cfg, { dynamodb });
    console.log(wrote ? `${values.table}: name terms written` : `${values.table}: name terms already complete`);
    return 0;
  } finally {
    dynamodb.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
