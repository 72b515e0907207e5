/**
 * The render function (group `render`, PS3.18 10.4.1.1.3-4) in the stack: its own function and bundle,
 * on x86_64 with the layer of sharp and the WebAssembly codecs (lib/constructs/render-layer.ts), and a
 * role that reads what Retrieve reads and writes only the derived images beside the instances. The
 * bundle itself is built, loaded and run in test/cdk/bundles.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { functionGroups } from '../../lambdas/http/routes';
import { derivedImageKey } from '../../lambdas/storage/keys';
import { DERIVED_IMAGE_OBJECTS } from '../../lib/constructs/api';
import { RENDER_LAYER_PACKAGES } from '../../lib/constructs/bundling';
import { RenderLayerError, renderLayerPackages, stageRenderLayer } from '../../lib/constructs/render-layer';
import { logicalId, policyStatements, synth, type Resources } from './helpers';

describe('the render function', () => {
  const { stack, template } = synth();
  const resources = template.toJSON().Resources as Resources;
  const fn = stack.dicomweb.functions.render;
  const props = resources[logicalId(stack, fn)]!.Properties;

  it('is a function of its own with the route table memory and timeout, on x86_64 with one layer', () => {
    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['x86_64'],
      MemorySize: functionGroups.render.memorySize,
      Timeout: functionGroups.render.timeoutSeconds,
    });
    // One vCPU (Lambda: 1,769 MB): decoding and encoding are CPU-bound.
    expect(functionGroups.render.memorySize).toBe(1769);
    expect(props.Layers).toHaveLength(1);
    const [layerId] = Object.entries(template.findResources('AWS::Lambda::LayerVersion'))[0]!;
    expect(props.Layers).toEqual([{ Ref: layerId }]);
    expect(resources[layerId]!.Properties).toMatchObject({
      CompatibleRuntimes: ['nodejs24.x'],
      CompatibleArchitectures: ['x86_64'],
    });
    // No other function carries the layer.
    for (const [group, other] of Object.entries(stack.dicomweb.functions)) {
      if (group !== 'render') expect(resources[logicalId(stack, other)]!.Properties.Layers, group).toBeUndefined();
    }
  });

  it('reads instances and the index, and writes only the derived images beside the instances', () => {
    const statements = policyStatements(template, logicalId(stack, fn.policy));
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 'dynamodb:Query', 'dynamodb:GetItem']));
    for (const denied of ['s3:DeleteObject', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Scan']) {
      expect(actions).not.toContain(denied);
    }
    // One update, as every function: a share link's use count, on the clients table's share items only.
    const updates = statements.filter((s) => [s.Action].flat().includes('dynamodb:UpdateItem'));
    expect(updates).toHaveLength(1);
    expect(JSON.stringify(updates[0]!.Resource)).toContain('ClientsTable');
    expect(updates[0]!.Condition).toMatchObject({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['share#*'] } });
    const puts = statements.filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(puts.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(`/${DERIVED_IMAGE_OBJECTS}"`)]);
    // The pattern matches the service's keys of derived images, not the instances' own objects.
    const pattern = new RegExp(`^${DERIVED_IMAGE_OBJECTS.replaceAll('.', '\\.').replaceAll('*', '.*')}$`);
    const objectKey = 'studies/1.2/series/3.4/instances/5.6.0000000001.dcm';
    expect(derivedImageKey(objectKey, 'thumbnail.jpg')).toMatch(pattern);
    expect(objectKey).not.toMatch(pattern);
    expect(objectKey.replace(/\.dcm$/, '.json')).not.toMatch(pattern);
  });
});

describe('the render layer', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'render-layer-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('holds the external packages with their dependencies and the linux-x64 glibc binaries only', () => {
    const names = renderLayerPackages().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining([...RENDER_LAYER_PACKAGES, '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64']));
    expect(names.filter((n) => n.startsWith('@img/sharp-') && !n.endsWith('-linux-x64'))).toEqual([]);
  });

  it('lays them out under nodejs/node_modules, native addon, libvips and .wasm files included', () => {
    stageRenderLayer(work);
    const modules = path.join(work, 'nodejs', 'node_modules');
    expect(existsSync(path.join(modules, '@img/sharp-linux-x64/lib/sharp-linux-x64.node'))).toBe(true);
    expect(readdirSync(path.join(modules, '@img/sharp-libvips-linux-x64/lib')).some((f) => f.startsWith('libvips-cpp.so'))).toBe(true);
    for (const codec of RENDER_LAYER_PACKAGES.filter((p) => p.startsWith('@cornerstonejs/'))) {
      expect(
        readdirSync(path.join(modules, codec, 'dist')).some((f) => f.endsWith('.wasm')),
        codec,
      ).toBe(true);
    }
    expect(existsSync(path.join(modules, 'dcmjs-codecs/build/dcmjs-native-codecs.wasm'))).toBe(true);
    expect(existsSync(path.join(modules, 'dcmjs/package.json'))).toBe(true); // what dcmjs-codecs requires
  });
});

describe('the render layer on another machine', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'render-layer-root-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const install = (name: string, json: Record<string, unknown> = {}) => {
    mkdirSync(path.join(root, 'node_modules', name), { recursive: true });
    writeFileSync(path.join(root, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...json }));
  };
  const platform = (system: string, cpu: string, libc?: string) => ({ os: [system], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) });
  for (const name of RENDER_LAYER_PACKAGES.filter((p) => p !== 'sharp')) install(name);
  install('sharp', {
    dependencies: { 'detect-libc': '^2' },
    optionalDependencies: { '@img/sharp-darwin-arm64': '1', '@img/sharp-linux-x64': '1', '@img/sharp-linuxmusl-x64': '1' },
  });
  install('detect-libc');
  install('@img/sharp-darwin-arm64', platform('darwin', 'arm64'));
  install('@img/sharp-linuxmusl-x64', platform('linux', 'x64', 'musl'));

  it('refuses to synth without the linux-x64 glibc sharp, saying how to install it', () => {
    expect(() => renderLayerPackages(root)).toThrow(RenderLayerError);
    expect(() => renderLayerPackages(root)).toThrow(/npm install --os=linux --cpu=x64 --libc=glibc sharp/);
  });

  it('takes the linux-x64 glibc binaries beside others installed for the build machine, and those only', () => {
    install('@img/sharp-linux-x64', platform('linux', 'x64', 'glibc'));
    const names = renderLayerPackages(root).map((p) => p.name);
    expect(names).toContain('@img/sharp-linux-x64');
    expect(names).toContain('detect-libc');
    expect(names).not.toContain('@img/sharp-darwin-arm64');
    expect(names).not.toContain('@img/sharp-linuxmusl-x64');
  });
});
