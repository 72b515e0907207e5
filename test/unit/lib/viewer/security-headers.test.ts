/**
 * The viewer's Content Security Policy (lib/viewer/security-headers.ts): the inline scripts of
 * index.html by their hashes, nothing else inline; what OHIF needs (WebAssembly, the codecs'
 * bindings, blob: workers and PDFs) and the identity provider's origins.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, inlineScriptHashes } from '../../../../lib/viewer/security-headers';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('inlineScriptHashes', () => {
  it('hashes each inline script exactly as written, and neither script files nor empty scripts', () => {
    const html =
      '<head><script>console.time("scriptToView"),window.PUBLIC_URL="/"</script>' +
      '<script src="/app-config.js"></script><script rel="preload" as="script" type="module" src="/init-service-worker.js"></script>' +
      '<script>function browserImportFunction(n){return import(n)}window.PUBLIC_URL="/"</script>' +
      '<script defer="defer" src="/app.bundle.js"></script><SCRIPT type="text/javascript">\n  a = 1;\n</SCRIPT><script> </script></head>';
    expect(inlineScriptHashes(html)).toEqual([
      sha256('console.time("scriptToView"),window.PUBLIC_URL="/"'),
      sha256('function browserImportFunction(n){return import(n)}window.PUBLIC_URL="/"'),
      sha256('\n  a = 1;\n'),
    ]);
  });
});

describe('contentSecurityPolicy', () => {
  const directives = (csp: string) => new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));

  it("allows the origin's scripts, the hashed inline ones, WebAssembly and the codecs' bindings, never 'unsafe-inline' scripts", () => {
    const csp = directives(contentSecurityPolicy(["'sha256-abc='"], []));
    expect(csp.get('script-src')).toEqual(["'self'", "'unsafe-eval'", "'wasm-unsafe-eval'", 'blob:', "'sha256-abc='"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('worker-src')).toEqual(["'self'", 'blob:']);
    expect(csp.get('object-src')).toEqual(["'self'", 'blob:']);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'", 'blob:', 'data:']);
  });

  it('lets the viewer connect to and frame the identity provider', () => {
    const csp = directives(
      contentSecurityPolicy([], ['https://cognito-idp.eu-west-1.amazonaws.com', 'https://archive.auth.eu-west-1.amazoncognito.com']),
    );
    for (const directive of ['connect-src', 'frame-src']) {
      expect(csp.get(directive)).toContain('https://cognito-idp.eu-west-1.amazonaws.com');
      expect(csp.get(directive)).toContain('https://archive.auth.eu-west-1.amazoncognito.com');
    }
    expect(csp.get('script-src')).not.toContain('https://cognito-idp.eu-west-1.amazonaws.com');
  });
});
