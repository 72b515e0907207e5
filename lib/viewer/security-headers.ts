/**
 * The OHIF Viewer's Content Security Policies for a static host that sets headers per path (the
 * stack's CloudFront distribution, lib/constructs/viewer.ts). A worker takes the policy of its own
 * script's response, not the page's: the codecs' Emscripten bindings build functions from text in
 * the decode workers, so the scripts' policy adds 'unsafe-eval' while the pages' keeps it out.
 * Checked in Chromium with OHIF 3.13.2 painting JPEG 2000, HTJ2K, JPEG-LS, JPEG baseline and RGB:
 * no violation; without 'unsafe-eval' for the workers every compressed frame fails (EvalError).
 */

/**
 * The pages' policy. Scripts: the origin's and index.html's inline ones by hash (lib/viewer/site-files.ts
 * inlineScriptHashes); WebAssembly compiled from the codecs ('wasm-unsafe-eval'); workers from blob:;
 * React's inline styles; a PDF shown as an object of a blob: URL. Connections: the origin and the
 * OpenID provider, which a silent sign-in also frames. No framing by other sites.
 */
export function contentSecurityPolicy(scriptHashes: readonly string[], identityOrigins: readonly string[]): string {
  return policy(["'self'", "'wasm-unsafe-eval'", 'blob:', ...scriptHashes], identityOrigins);
}

/** The scripts' policy, which binds the workers started from them: the pages' with 'unsafe-eval'. */
export function workerContentSecurityPolicy(identityOrigins: readonly string[]): string {
  return policy(["'self'", "'unsafe-eval'", "'wasm-unsafe-eval'", 'blob:'], identityOrigins);
}

function policy(scriptSources: readonly string[], identityOrigins: readonly string[]): string {
  const idp = identityOrigins.map((o) => ` ${o}`).join('');
  return [
    "default-src 'self'",
    `script-src ${scriptSources.join(' ')}`,
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' blob:",
    "object-src 'self' blob:",
    `connect-src 'self' blob: data:${idp}`,
    `frame-src 'self' blob:${idp}`,
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
