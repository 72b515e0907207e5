/**
 * Unit: the layer rules of eslint.config.js reject an import against the direction of the layers
 * (docs/architecture.md, "Layers"), and accept the imports each layer may make. The sources are
 * linted as if they were files of the folder named, so nothing forbidden is ever committed.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The messages of the layer rules for `source` linted as the file at `filePath`. */
async function layerErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}${filePath}` });
  return result!.messages
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths' || m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('layer rules', () => {
  it('reject a service importing an adapter, the HTTP layer or the AWS SDK', async () => {
    const errors = await layerErrors(
      'lambdas/dicomweb/fixture.ts',
      [
        "import { S3BlobStore } from '../storage/s3';",
        "import { statusReport } from '../http/status-report';",
        "import { S3Client } from '@aws-sdk/client-s3';",
        'export const used = [S3BlobStore, statusReport, S3Client];',
        '',
      ].join('\n'),
    );
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/never adapters/);
    expect(errors[1]).toMatch(/neither the HTTP layer/);
    expect(errors[2]).toMatch(/AWS SDK/);
  }, 60_000);

  it('reject the codec importing a layer above it', async () => {
    const errors = await layerErrors(
      'lambdas/dicom/fixture.ts',
      "import { BadRequestError } from '../dicomweb/errors';\nexport const used = BadRequestError;\n",
    );
    expect(errors).toEqual([expect.stringMatching(/imports no other layer/)]);
  }, 60_000);

  it('reject an adapter importing a service, and lambdas/ importing lib/', async () => {
    expect(
      await layerErrors(
        'lambdas/storage/fixture.ts',
        "import { SearchService } from '../dicomweb/search';\nexport const used = SearchService;\n",
      ),
    ).toEqual([expect.stringMatching(/never services or HTTP/)]);
    expect(
      await layerErrors(
        'lambdas/handlers/fixture.ts',
        "import { LOCAL_BUCKET } from '../../lib/local/archive';\nexport const used = LOCAL_BUCKET;\n",
      ),
    ).toEqual([expect.stringMatching(/never imports lib\//)]);
  }, 60_000);

  it('reject a DIMSE module importing the HTTP layer or the handlers, except the process entry', async () => {
    const source = "import { services } from '../handlers/services';\nexport const used = services;\n";
    expect(await layerErrors('lambdas/dimse/fixture.ts', source)).toEqual([expect.stringMatching(/only dimse\/main.ts wires/)]);
    expect(await layerErrors('lambdas/dimse/main.ts', source)).toEqual([]);
  }, 60_000);

  it('accept a service importing ports and the codec, and a handler wiring all layers', async () => {
    expect(
      await layerErrors(
        'lambdas/dicomweb/fixture.ts',
        "import type { BlobStore } from '../storage/ports';\nimport { Tag } from '../dicom/tags';\nexport const used: [BlobStore?, typeof Tag] = [undefined, Tag];\n",
      ),
    ).toEqual([]);
    expect(
      await layerErrors(
        'lambdas/handlers/fixture.ts',
        "import { S3BlobStore } from '../storage/s3';\nimport { dicomwebHandler } from '../http/middleware';\nimport { SearchService } from '../dicomweb/search';\nexport const used = [S3BlobStore, dicomwebHandler, SearchService];\n",
      ),
    ).toEqual([]);
  }, 60_000);
});
