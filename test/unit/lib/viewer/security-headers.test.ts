/**
 * The viewer's Content Security Policies (lib/viewer/security-headers.ts): the pages' without
 * 'unsafe-eval' and with index.html's inline scripts by hash; the scripts' (binding the workers
 * started from them) with 'unsafe-eval' and no inline script; both with what OHIF needs and the
 * identity provider's origins.
 */
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, workerContentSecurityPolicy } from '../../../../lib/viewer/security-headers';

const directives = (csp: string) => new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
const IDP = ['https://cognito-idp.eu-west-1.amazonaws.com', 'https://archive.auth.eu-west-1.amazoncognito.com'];

describe('the viewer CSPs', () => {
  it("pages: the origin's scripts, the hashed inline ones, WebAssembly; never 'unsafe-eval' nor 'unsafe-inline' scripts", () => {
    const csp = directives(contentSecurityPolicy(["'sha256-abc='"], []));
    expect(csp.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'", 'blob:', "'sha256-abc='"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('worker-src')).toEqual(["'self'", 'blob:']);
    expect(csp.get('object-src')).toEqual(["'self'", 'blob:']);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'", 'blob:', 'data:']);
  });

  it("scripts (the workers' policy): the pages' with 'unsafe-eval' for the codecs' bindings, no inline script", () => {
    const page = directives(contentSecurityPolicy([], IDP));
    const worker = directives(workerContentSecurityPolicy(IDP));
    expect(worker.get('script-src')).toEqual(["'self'", "'unsafe-eval'", "'wasm-unsafe-eval'", 'blob:']);
    for (const [name, sources] of page) if (name !== 'script-src') expect(worker.get(name), name).toEqual(sources);
  });

  it('lets the viewer connect to and frame the identity provider, and run no script from it', () => {
    for (const csp of [directives(contentSecurityPolicy([], IDP)), directives(workerContentSecurityPolicy(IDP))]) {
      for (const directive of ['connect-src', 'frame-src']) for (const origin of IDP) expect(csp.get(directive)).toContain(origin);
      expect(csp.get('script-src')).not.toContain(IDP[0]);
    }
  });
});
