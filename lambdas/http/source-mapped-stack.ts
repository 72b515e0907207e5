/**
 * Stack traces of the minified Lambda bundles, mapped back to the archive's sources when they are
 * logged, not when the function starts.
 *
 * Each bundle ships its source map beside it (`index.js.map`, positions only, without a
 * `sourceMappingURL` comment: lib/constructs/bundling.ts). Node's `--enable-source-maps` would read and
 * parse it on every cold start, and scan every module the function loads for a map, to improve stack
 * traces that a function logs rarely: 15-20 ms of a cold start for store and search, measured. Here the map is
 * read on the first stack that names the bundle, once per process, with node:module's SourceMap.
 * Outside a bundle (tests, the embedded archive under tsx) no `.map` file sits beside the frames'
 * files and stacks are left as they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One V8 frame location: `/var/task/index.js:1:23456` or a file: URL, line and column 1-based. */
const FRAME_LOCATION = /((?:file:\/\/)?\/[^\s():]+\.[cm]?js):(\d+):(\d+)/g;

const maps = new Map<string, SourceMap | undefined>();

function mapOf(file: string): SourceMap | undefined {
  if (maps.has(file)) return maps.get(file);
  let map: SourceMap | undefined;
  try {
    const mapFile = `${file}.map`;
    if (existsSync(mapFile)) map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
  } catch {
    // An unreadable or malformed map leaves the stack as V8 wrote it.
    map = undefined;
  }
  maps.set(file, map);
  return map;
}

/** A source as the map names it (relative to the bundle's build directory), from the package or project root. */
function sourceName(source: string): string {
  const path = source.startsWith('file://') ? fileURLToPath(source) : source;
  const inPackage = path.lastIndexOf('node_modules/');
  if (inPackage >= 0) return path.slice(inPackage);
  return path.replace(/^(?:\.\.?\/)+/, '');
}

/** The stack with each bundle location replaced by its source location, where the bundle has a map. */
export function sourceMappedStack(stack: string): string {
  return stack.replace(FRAME_LOCATION, (location: string, url: string, line: string, column: string) => {
    const file = url.startsWith('file://') ? fileURLToPath(url) : url;
    const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || !('originalSource' in entry)) return location;
    return `${sourceName(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  });
}

/** Rewrites an Error's stack in place (what the Lambda runtime logs and hands Step Functions as Cause). */
export function withSourceMappedStack<E>(error: E): E {
  if (error instanceof Error && typeof error.stack === 'string') {
    try {
      error.stack = sourceMappedStack(error.stack);
    } catch {
      // The error matters more than its stack.
    }
  }
  return error;
}

/** A Step Functions Task entry whose failures carry source-mapped stacks. */
export function taskEntry<I, O>(task: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    try {
      return await task(input);
    } catch (error) {
      throw withSourceMappedStack(error);
    }
  };
}
