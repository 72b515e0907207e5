/**
 * The dicomweb-client npm package (the DICOMweb library OHIF uses) pointed at a service root, for e2e
 * tests of third-party interoperability (docs/clients.md).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A DICOMwebClient for `url`; the package is untyped enough that tests use it as `any`. */
export async function dicomwebClient(url: string): Promise<any> {
  // dicomweb-client speaks XMLHttpRequest, which Node lacks; xhr2 provides it.
  (globalThis as any).XMLHttpRequest ??= require('xhr2');
  const { api } = await import('dicomweb-client');
  return new api.DICOMwebClient({ url, verbose: false } as any);
}
