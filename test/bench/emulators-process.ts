/**
 * The embedded runtime's emulators (s3rver, dynalite) alone in a process, for the cost measurements
 * of ./cost-worker.ts: the worker's CPU and memory are then the handlers' own, as in Lambda, where
 * S3 and DynamoDB run elsewhere. Prints one JSON line with the endpoints; stops on SIGTERM.
 *   node --import tsx test/bench/emulators-process.ts <dataDir>
 */
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../lib/local/archive';
import { startEmulators } from '../../lib/local/emulators';

const emulators = await startEmulators({ dataDir: process.argv[2]!, bucketName: LOCAL_BUCKET, tableName: LOCAL_TABLE });
console.log(JSON.stringify({ s3Endpoint: emulators.s3Endpoint, dynamodbEndpoint: emulators.dynamodbEndpoint }));
process.on('SIGTERM', () => void emulators.close().then(() => process.exit(0)));
