/**
 * The behaviour suites that matter most, run on the AWS adapters over the emulators
 * (STORAGE=aws-emulators, the cloud's code path; `npm start` and the other tests use the local
 * engine): the Studies
 * Service (store, search, retrieve, delete), SEND-RS, the Non-Patient Instance services, the DIMSE
 * gateway, API key clients, bad input, load, Send faults, capabilities. Each suite's archives come from tempArchive
 * (test/support/http.ts), which takes STORAGE from the process: set here before any archive starts.
 * The same files run on the local engine as they are (test/e2e, test/reliability); the SIGKILL suite
 * runs on both storages by itself (test/reliability/sigkill.test.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempArchive } from '../../support/http';
import '../../e2e/studies-service.test';
import '../../e2e/send-rs.test';
import '../../e2e/npi-service.test';
import '../../e2e/dimse-gateway.test';
import '../../e2e/clients.test';
import '../../reliability/bad-input.test';
import '../../reliability/load.test';
import '../../reliability/send-faults.test';
import '../../e2e/capabilities.test';

const saved = process.env.STORAGE;
process.env.STORAGE = 'aws-emulators';
afterAll(() => {
  if (saved === undefined) delete process.env.STORAGE;
  else process.env.STORAGE = saved;
});

describe('the suites above', () => {
  it('run on the emulators: the AWS adapters, s3rver and dynalite under the data directory', async () => {
    const archive = await tempArchive();
    try {
      expect(archive.config.storage).toBe('aws');
      expect(existsSync(path.join(archive.dataDir, 's3'))).toBe(true);
      expect(existsSync(path.join(archive.dataDir, 'dynamodb'))).toBe(true);
      expect(existsSync(path.join(archive.dataDir, 'objects'))).toBe(false);
    } finally {
      await archive.close();
    }
  });
});
