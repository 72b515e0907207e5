/**
 * The behaviours every destination registry source promises (lambdas/storage/ports.ts RegistrySource
 * over a RegistryFormat): the registry a document holds, read back through the format; a document
 * that is not JSON, or holds no valid registry, reported as the format's error without quoting it,
 * so no credential reaches a log or a Status Report. Run against the file of the embedded runtime and
 * the Secrets Manager secret of AWS.
 */
import { describe, expect, it } from 'vitest';
import { DESTINATION_REGISTRY_FORMAT, DestinationRegistryError, type DestinationRegistry } from '../../lambdas/send/destinations';
import type { RegistryFormat, RegistrySource } from '../../lambdas/storage/ports';

const TOKEN = 'tok-contract-5b1e90c2a7';

/** A source whose document holds `text`, read in `format`. */
export type MakeRegistrySource = (
  text: string,
  format: RegistryFormat<DestinationRegistry>,
) => Promise<RegistrySource<DestinationRegistry>>;

export function describeRegistrySourceContract(name: string, make: MakeRegistrySource): void {
  describe(`${name} (destination registry source contract)`, () => {
    it('answers the registry its document holds', async () => {
      const text = JSON.stringify({ destinations: [{ url: 'https://pacs.example.org/dicomweb', auth: { type: 'bearer', token: TOKEN } }] });
      const registry = await (await make(text, DESTINATION_REGISTRY_FORMAT)).load();
      expect(registry.destinations.map((d) => d.url)).toEqual(['https://pacs.example.org/dicomweb']);
    });

    it.each([
      ['not JSON', `{ "destinations": [ { "url": "https://a.example.org/", "auth": { "type": "bearer", "token": "${TOKEN}" } `],
      ['no registry', JSON.stringify({ destinations: [{ url: 'https://a.example.org/', auth: { type: 'magic', token: TOKEN } }] })],
    ])('reports a document holding %s as the format error, quoting none of it', async (_kind, text) => {
      const error = await (await make(text, DESTINATION_REGISTRY_FORMAT)).load().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DestinationRegistryError);
      expect((error as Error).message).not.toContain(TOKEN);
    });
  });
}
