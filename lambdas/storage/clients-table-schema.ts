/**
 * The API key clients' table (docs/security.md), apart from the archive's table: it holds no patient
 * data, is read on every request authenticated by key, and is shared by the CDK construct and the
 * embedded runtime's CreateTable so both create the same table.
 *
 * One item per client, partition key `id` (the key's public id, `dwk_<id>_<secret>`); no sort key,
 * no index: clients are few, listed by Scan.
 */
export const CLIENTS_PARTITION_KEY = 'id';
