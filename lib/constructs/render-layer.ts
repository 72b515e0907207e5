/**
 * The render function's Lambda layer: the packages its bundle leaves external (./bundling.ts
 * RENDER_LAYER_PACKAGES) copied from node_modules as installed, with their dependencies. In a Node.js
 * function /opt/nodejs/node_modules is on NODE_PATH (Lambda, "Packaging your layer content"), so
 * `require('sharp')` in the bundle finds them there, each in its own directory as npm laid it out:
 * - sharp loads its native addon from @img/sharp-linux-x64 and libvips from
 *   @img/sharp-libvips-linux-x64, the prebuilt binaries for glibc on x86_64 (Amazon Linux 2023 under
 *   nodejs24.x), chosen at runtime by platform; npm installs only the host's, which is this one.
 * - the @cornerstonejs codecs are Emscripten builds that read their .wasm from `__dirname`, which a
 *   bundle would turn into the bundle's own directory.
 * The layer is built on the synthesizing machine by copying files (a local bundling step): no Docker
 * and no network install at synth, so the first `cdk deploy` works where `npm ci` ran on linux-x64.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RENDER_LAYER_PACKAGES } from './bundling';
import { PROJECT_ROOT } from './dicomweb-function';

/** Where the layer runs: the render function's runtime and architecture (./dicomweb-function.ts). */
export const RENDER_ARCHITECTURE = lambda.Architecture.X86_64;
const TARGET = { os: 'linux', cpu: 'x64', libc: 'glibc' } as const;

/** The native package sharp needs on the target; without it the function would fail on its first render. */
const SHARP_PREBUILT = `@img/sharp-${TARGET.os}-${TARGET.cpu}`;

export class RenderLayerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderLayerError';
  }
}

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
}

export interface LayerPackage {
  readonly name: string;
  readonly version: string;
  /** Its directory in node_modules (symbolic links resolved). */
  readonly dir: string;
}

/** The package directory `name` resolves to from `from`, as Node resolves it (nearest node_modules up). */
function packageDir(name: string, from: string, root: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
}

/** npm's own test for an optional platform package (package.json `os`, `cpu`, `libc`): true when absent. */
function runsOnTarget(pkg: PackageJson): boolean {
  const allows = (list: readonly string[] | undefined, value: string) => {
    if (!list || list.length === 0) return true;
    if (list.includes(`!${value}`)) return false;
    const listed = list.filter((v) => !v.startsWith('!'));
    return listed.length === 0 || listed.includes(value);
  };
  return allows(pkg.os, TARGET.os) && allows(pkg.cpu, TARGET.cpu) && allows(pkg.libc, TARGET.libc);
}

/**
 * The layer's packages: RENDER_LAYER_PACKAGES and, transitively, their dependencies and those optional
 * dependencies that are installed and run on the target (sharp's: the linux-x64 glibc binaries only).
 */
export function renderLayerPackages(projectRoot = PROJECT_ROOT): LayerPackage[] {
  const found = new Map<string, LayerPackage>();
  const visit = (name: string, from: string, optional: boolean) => {
    if (found.has(name)) return;
    const dir = packageDir(name, from, projectRoot);
    if (!dir) {
      if (optional) return;
      throw new RenderLayerError(`${name} is not installed in ${projectRoot}/node_modules: run npm ci`);
    }
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    if (optional && !runsOnTarget(pkg)) return;
    found.set(name, { name, version: pkg.version, dir });
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of RENDER_LAYER_PACKAGES) visit(name, projectRoot, false);
  if (!found.has(SHARP_PREBUILT)) {
    throw new RenderLayerError(
      `${SHARP_PREBUILT} is not installed: the render function runs on ${TARGET.os}-${TARGET.cpu} (${TARGET.libc}); ` +
        `install it with npm install --os=${TARGET.os} --cpu=${TARGET.cpu} --libc=${TARGET.libc} sharp`,
    );
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Copies the layer's packages into `outputDir`/nodejs/node_modules, the layout Lambda puts on NODE_PATH. */
export function stageRenderLayer(outputDir: string, projectRoot = PROJECT_ROOT): LayerPackage[] {
  const packages = renderLayerPackages(projectRoot);
  for (const p of packages) {
    const target = path.join(outputDir, 'nodejs', 'node_modules', p.name);
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(p.dir, target, { recursive: true, dereference: true });
  }
  return packages;
}

export interface RenderLayerProps {
  readonly projectRoot?: string;
}

/** The layer of the render function: one version per set of package versions. */
export class RenderLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: RenderLayerProps = {}) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const packages = renderLayerPackages(projectRoot);
    // The asset's identity is the packages' names and versions: nothing else goes in, so a synth
    // need not read the 20 MB to know whether the layer changed.
    const assetHash = createHash('sha256')
      .update(packages.map((p) => `${p.name}@${p.version}`).join('\n'))
      .digest('hex');
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `Render function packages: ${packages.map((p) => `${p.name}@${p.version}`).join(', ')}`.slice(0, 256),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
      compatibleArchitectures: [RENDER_ARCHITECTURE],
      code: lambda.Code.fromAsset(packages.find((p) => p.name === 'sharp')!.dir, {
        assetHashType: AssetHashType.CUSTOM,
        assetHash,
        bundling: {
          // Never pulled: the local step below always succeeds, so CDK does not fall back to Docker.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox'),
          local: {
            tryBundle(outputDir: string): boolean {
              stageRenderLayer(outputDir, projectRoot);
              return true;
            },
          },
        },
      }),
    });
  }
}
