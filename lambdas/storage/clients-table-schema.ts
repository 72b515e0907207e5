/**
 * The API key clients' table (docs/security.md), apart from the archive's: it holds no patient
 * data, is read on every request authenticated by key, and is shared by the CDK construct and the
 * embedded runtime's CreateTable so both create the same table.
 *
 * One item per client, partition key `id` (the key's public id, `dwk_<id>_<secret>`); no sort key,
 * no index: clients are few, listed by Scan. Share links (dynamodb-share-links.ts), credentials too,
 * live in the same table under `share#<id>`: client ids are lower-case letters and digits only, so
 * the two never meet.
 */
export const CLIENTS_PARTITION_KEY = 'id';
/** The key prefix of a share link's item. */
export const SHARE_LINK_KEY_PREFIX = 'share#';
