/**
 * `npm run index-names -- --table NAME [--region REGION] [--shards N] [--endpoint URL]`: writes the Patient's Name
 * terms (lambdas/storage/table-schema.ts) of every entry an archive stored before they existed, so
 * that PatientName searches find those entries too. Run once against a deployed table after
 * upgrading; idempotent, and safe while the archive serves (DynamoMetadataIndex.ensureNameTerms).
 * The embedded runtime does the same by itself when it starts.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createDynamoDbClient, DynamoMetadataIndex } from '../../lambdas/storage/dynamodb';

export const USAGE =
  'Usage: npm run index-names -- --table NAME [--region REGION] [--shards INDEX_SHARDS (default 8)] [--endpoint URL]';

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
  const dynamodb = createDynamoDbClient({ region, dynamodbEndpoint: values.endpoint });
  try {
    const wrote = await new DynamoMetadataIndex(dynamodb, values.table, shards).ensureNameTerms();
    console.log(wrote ? `${values.table}: name terms written` : `${values.table}: name terms already complete`);
    return 0;
  } finally {
    dynamodb.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
