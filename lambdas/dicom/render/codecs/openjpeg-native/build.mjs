// npm's install step of this package: builds decoder.c against the system's OpenJPEG with node-gyp
// when pkg-config knows libopenjp2 (Debian: libopenjp2-7-dev) and a C compiler is there, else says
// why not and leaves the archive on OpenJPEG's WebAssembly build. Never fails the install.
// OPENJPEG_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BUILD = path.join(here, 'build');
/** What index.cjs loads. */
const ADDON = path.join(BUILD, 'Release', 'openjpeg_decoder.node');
const say = (line) => console.log(`openjpeg-native: ${line}`);
const found = (command, args) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function nodeGyp() {
  // npm hands its own node-gyp to install scripts; else the one beside npm.
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

function build() {
  // What an earlier install built goes first: this install decides which decoder the archive uses.
  rmSync(BUILD, { recursive: true, force: true });
  if (process.env.OPENJPEG_NATIVE === '0') return 'skipped (OPENJPEG_NATIVE=0)';
  if (!found('pkg-config', ['--exists', 'libopenjp2']))
    return 'not built: pkg-config finds no libopenjp2 (Debian: apt-get install libopenjp2-7-dev pkg-config)';
  if (!found('cc', ['--version'])) return 'not built: no C compiler (Debian: apt-get install build-essential)';
  const gyp = nodeGyp();
  if (!gyp) return 'not built: node-gyp not found';
  // The headers of the running Node where its installation has them (no download).
  const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  const nodedir = existsSync(path.join(headers, 'node_api.h')) ? [`--nodedir=${path.dirname(path.dirname(headers))}`] : [];
  const run = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: here, encoding: 'utf8' });
  if (run.status !== 0) {
    rmSync(BUILD, { recursive: true, force: true });
    return `not built: node-gyp failed (${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ')})`;
  }
  return 'built against the system OpenJPEG';
}

say(`${build()}; JPEG 2000 frames are decoded ${existsSync(ADDON) ? 'natively' : 'by WebAssembly'}`);
