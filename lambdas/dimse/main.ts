/**
 * Entry of the DIMSE gateway container (Fargate behind a Network Load Balancer): the archive's
 * services over AWS, the SCP on DIMSE_PORT, stopped cleanly on SIGTERM (ECS stops tasks with it).
 */
import { services } from '../handlers/services';
import { loadDimseConfig } from './config';
import { startArchiveDimseGateway } from './gateway';

async function main(): Promise<void> {
  const svc = services();
  const dimse = loadDimseConfig(process.env, { host: '0.0.0.0' });
  const gateway = await startArchiveDimseGateway(svc, dimse, { baseUrl: svc.config.publicBaseUrl ?? '' });
  console.log(JSON.stringify({ event: 'dimse-gateway-listening', aeTitle: gateway.aeTitle, port: gateway.port }));
  process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ event: 'dimse-gateway-failed', message: error instanceof Error ? error.message : 'unknown' }));
  process.exit(1);
});
