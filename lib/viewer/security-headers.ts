/**
 * The OHIF Viewer's Content Security Policy, one for wherever it is served: the CloudFront
 * distribution of the stack (lib/constructs/viewer.ts) and any other server of its files. Checked in
 * Chromium with OHIF 3.13.2 painting JPEG 2000, HTJ2K, JPEG-LS, JPEG baseline and RGB images: no
 * violation; without 'unsafe-eval' no compressed image decodes (EvalError in the codecs' bindings).
 */
import { createHash } from 'node:crypto';

/**
 * SHA-256 sources of the inline scripts of the viewer's index.html (OHIF sets window.PUBLIC_URL
 * there), so the CSP allows exactly them and no other inline script.
 */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    if (match[1]!.trim()) hashes.push(`'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`);
  }
  return hashes;
}

/**
 * The viewer's Content Security Policy. OHIF compiles WebAssembly codecs ('wasm-unsafe-eval'), and
 * their Emscripten bindings build functions from text ('unsafe-eval'); its decoders run in workers
 * from blob: URLs; React sets inline styles; a PDF is an object of a blob: URL. Connections go to the
 * same origin and the OpenID provider, which a silent sign-in also frames.
 */
export function contentSecurityPolicy(scriptHashes: readonly string[], identityOrigins: readonly string[]): string {
  const idp = identityOrigins.map((o) => ` ${o}`).join('');
  const hashes = scriptHashes.map((h) => ` ${h}`).join('');
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval' blob:${hashes}`,
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
