/**
 * Unit: the published build rebased to a path (lib/viewer/site-files.ts), on the strings OHIF 3.13's
 * build holds (index.html, the webpack runtime's public path, CSS fonts, the manifest's icons).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inlineScriptHashes, mayNeedRebase, rebaseIndexHtml, rebaseViewerText } from '../../../../lib/viewer/site-files';

describe('rebasing the viewer build', () => {
  it('rewrites PUBLIC_URL and every absolute link of index.html, not protocol-relative ones', () => {
    const html =
      '<script>console.time("scriptToView"),window.PUBLIC_URL="/"</script><link rel="icon" href="/assets/favicon.ico">' +
      '<script src="/app-config.js"></script><script>function browserImportFunction(n){return import(n)}window.PUBLIC_URL="/"</script>' +
      '<link href="//cdn.example.org/x.css"><a href="https://ohif.org/">';
    const out = rebaseIndexHtml(html, '/viewer');
    expect(out.match(/window\.PUBLIC_URL="\/viewer\/"/g)).toHaveLength(2);
    expect(out).toContain('href="/viewer/assets/favicon.ico"');
    expect(out).toContain('src="/viewer/app-config.js"');
    expect(out).toContain('href="//cdn.example.org/x.css"');
    expect(out).toContain('href="https://ohif.org/"');
  });

  it("sets the webpack runtime's public path in every bundle", () => {
    const runtime = '// webpack/runtime/public_path\n(() => {\n__webpack_require__.p = "/";\n})();';
    expect(rebaseViewerText('app.bundle.0f6159c501addfe9.js', runtime, '/viewer')).toContain('__webpack_require__.p = "/viewer/";');
    expect(rebaseViewerText('8097.bundle.8ae6404ba94890a0.js', runtime, '/a/viewer/')).toContain('__webpack_require__.p = "/a/viewer/";');
    expect(rebaseViewerText('x.js', "browserImportFunction('/dicom-microscopy-viewer/dicomMicroscopyViewer.min.js')", '/viewer')).toContain(
      "'/viewer/dicom-microscopy-viewer/",
    );
  });

  it('leaves a file with nothing to rewrite as published', () => {
    expect(rebaseViewerText('ort/ort.all.js', 'var a = "/"; fetch(x);', '/viewer')).toBeUndefined();
    expect(mayNeedRebase('0ddf166f7a343eda.wasm')).toBe(false);
    expect(mayNeedRebase('assets/android-chrome-36x36.png')).toBe(false);
    expect(mayNeedRebase('manifest.json')).toBe(true);
  });

  it('rewrites the font URLs of the CSS and the icons of the manifest', () => {
    expect(rebaseViewerText('app.bundle.css', 'src:url(/a34f9d1faa5f3315.woff2) format("woff2")', '/viewer')).toBe(
      'src:url(/viewer/a34f9d1faa5f3315.woff2) format("woff2")',
    );
    expect(rebaseViewerText('manifest.json', '{ "src": "/assets/android-chrome-36x36.png" }', '/viewer')).toBe(
      '{ "src": "/viewer/assets/android-chrome-36x36.png" }',
    );
  });

  it('hashes the inline scripts of a page for its CSP, not the external ones', () => {
    const html = '<script>window.PUBLIC_URL="/viewer/"</script><script defer src="/viewer/app.js"></script><script rel="x">a()</script>';
    const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(inlineScriptHashes(html)).toEqual([sha('window.PUBLIC_URL="/viewer/"'), sha('a()')]);
  });
});
