/** lib/local/data-layout.ts: a data directory of the other storage is refused with what to run, never ignored. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveStorage, refuseOtherLayout } from '../../../../lib/local/data-layout';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'layout-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('archiveStorage', () => {
  it('takes local and aws-emulators, defaults to local (the local engine)', () => {
    expect(archiveStorage(undefined)).toBe('local');
    expect(archiveStorage('')).toBe('local');
    expect(archiveStorage('local')).toBe('local');
    expect(archiveStorage('aws-emulators')).toBe('aws-emulators');
  });
  it("refuses aws (the functions' setting) and unknown names", () => {
    expect(() => archiveStorage('aws')).toThrow(/STORAGE=aws is for the functions deployed in AWS/);
    expect(() => archiveStorage('lmdb')).toThrow(/STORAGE=lmdb: npm start keeps its data with STORAGE=local/);
  });
});

describe('refuseOtherLayout', () => {
  it('accepts an empty or missing directory for either storage', () => {
    expect(() => refuseOtherLayout(dir, 'local')).not.toThrow();
    expect(() => refuseOtherLayout(path.join(dir, 'missing'), 'aws-emulators')).not.toThrow();
  });

  it('refuses the emulator layout under the local engine, naming it and the commands', () => {
    mkdirSync(path.join(dir, 's3'));
    mkdirSync(path.join(dir, 'dynamodb'));
    expect(() => refuseOtherLayout(dir, 'aws-emulators')).not.toThrow();
    expect(() => refuseOtherLayout(dir, 'local')).toThrow(
      `DATA_DIR ${dir} holds the emulator layout (s3/, dynamodb/): run \`STORAGE=aws-emulators npm start\` on it, ` +
        `or migrate it to the local engine: \`npm run migrate-data -- --from ${dir} --to NEW_DIR\`, then \`STORAGE=local DATA_DIR=NEW_DIR npm start\``,
    );
  });

  it('refuses the local engine layout under the emulators', () => {
    mkdirSync(path.join(dir, 'objects'));
    writeFileSync(path.join(dir, 'index.sqlite'), '');
    expect(() => refuseOtherLayout(dir, 'local')).not.toThrow();
    expect(() => refuseOtherLayout(dir, 'aws-emulators')).toThrow(
      `DATA_DIR ${dir} holds the local engine layout (objects/, index.sqlite): run \`STORAGE=local npm start\` on it`,
    );
  });

  it('leaves a directory already holding its own layout alone (destinations.json beside it is no layout)', () => {
    writeFileSync(path.join(dir, 'destinations.json'), '{}');
    mkdirSync(path.join(dir, 'objects'));
    mkdirSync(path.join(dir, 's3'));
    expect(() => refuseOtherLayout(dir, 'local')).not.toThrow();
  });
});
