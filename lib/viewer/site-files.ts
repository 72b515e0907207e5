/**
 * The viewer's build served under a path rather than `/`. OHIF's published build is made for `/`:
 * index.html sets `window.PUBLIC_URL="/"` and links `/...`, and the bundles' webpack runtime loads
 * chunks, WebAssembly and workers from the fixed public path `"/"` (`__webpack_require__.p`), so
 * those few strings are rewritten to the base path; everything else (the code of the chunks) is
 * served as published. The same rewrite serves the embedded runtime and the deployed static site.
 */
import { createHash } from 'node:crypto';

/** `/viewer` -> `/viewer/`: the public path every rewritten URL starts with. */
function publicPath(basePath: string): string {
  return `${basePath.replace(/\/+$/, '')}/`;
}

/** The webpack runtime's public path, as each published bundle (app, chunks, workers) sets it. */
const WEBPACK_PUBLIC_PATH = '__webpack_require__.p = "/";';

/** index.html for the base path: PUBLIC_URL (read by OHIF's router and loaders) and every `/...` link. */
export function rebaseIndexHtml(html: string, basePath: string): string {
  const base = publicPath(basePath);
  return html
    .replaceAll('window.PUBLIC_URL="/"', `window.PUBLIC_URL=${JSON.stringify(base)}`)
    .replace(/\b(href|src)="\/(?!\/)/g, `$1="${base}`);
}

/**
 * A published file's text for the base path, or undefined when it needs no change. `name` is its
 * path within the build (`app.bundle.0f61.js`, `assets/x.png`).
 */
export function rebaseViewerText(name: string, text: string, basePath: string): string | undefined {
  const base = publicPath(basePath);
  let out = text;
  if (name.endsWith('.js')) {
    out = out
      .replaceAll(WEBPACK_PUBLIC_PATH, `__webpack_require__.p = ${JSON.stringify(base)};`)
      // The microscopy viewer is imported from an absolute path by the app bundle.
      .replaceAll("'/dicom-microscopy-viewer/", `'${base}dicom-microscopy-viewer/`);
  } else if (name.endsWith('.css')) {
    out = out.replace(/url\(\/(?!\/)/g, `url(${base}`);
  } else if (name === 'manifest.json') {
    out = out.replace(/"(src|start_url)": "\/(?!\/)/g, `"$1": "${base}`);
  } else if (name.endsWith('.html')) {
    out = rebaseIndexHtml(out, basePath);
  }
  return out === text ? undefined : out;
}

/** Which published files may need rewriting: the others are served byte for byte. */
export function mayNeedRebase(name: string): boolean {
  return /\.(js|css|html)$/.test(name) || name === 'manifest.json';
}

/** The CSP source expressions (`'sha256-...'`) of the inline scripts of an HTML page. */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
    hashes.push(`'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`);
  }
  return hashes;
}
