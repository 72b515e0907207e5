// ESLint flat config: typescript-eslint's recommended rules and the layer rules of the archive
// (docs/architecture.md, "Layers"). A wrong import between layers fails `npm run lint`, and with
// it `npm test`.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const lambdas = (folder) => `./lambdas/${folder}`;

/**
 * Storage modules a service may import: the ports, the errors every port may raise (errors.ts,
 * StorageUnavailableError) and the pure object-key builder.
 */
const STORAGE_FOR_SERVICES = ['./ports.ts', './errors.ts', './keys.ts'];

/** The layer rules: which folder of lambdas/ may import which (docs/architecture.md, "Layers"). */
function layerZones() {
  const services = [lambdas('dicomweb'), lambdas('send'), lambdas('auth')];
  return [
    // The codec imports nothing above it.
    {
      target: lambdas('dicom'),
      from: ['dicomweb', 'send', 'auth', 'storage', 'http', 'handlers', 'dimse'].map(lambdas).concat('./lambdas/config.ts'),
      message: 'lambdas/dicom is the codec: it imports no other layer.',
    },
    // Services work over ports: no adapters, no HTTP, no entries.
    ...services.map((target) => ({
      target,
      from: lambdas('storage'),
      except: STORAGE_FOR_SERVICES,
      message: 'A service imports storage ports (storage/ports.ts), never adapters.',
    })),
    ...services.map((target) => ({
      target,
      from: ['http', 'handlers', 'dimse'].map(lambdas),
      message: 'A service imports neither the HTTP layer, nor handlers, nor the DIMSE gateway.',
    })),
    // Adapters implement ports with the codec; they know no service, HTTP or entry.
    {
      target: lambdas('storage'),
      from: ['dicomweb', 'send', 'auth', 'http', 'handlers', 'dimse'].map(lambdas),
      message: 'lambdas/storage holds ports and adapters: it imports the codec, never services or HTTP.',
    },
    // The DIMSE gateway is an entry beside the handlers: only its process entry (main.ts) uses their
    // composition of the services; it speaks DIMSE, so it needs nothing of the HTTP layer.
    {
      target: './lambdas/dimse/!(main).ts',
      from: ['handlers', 'http'].map(lambdas),
      message: 'lambdas/dimse uses the services, not the HTTP layer; only dimse/main.ts wires them from lambdas/handlers.',
    },
    // The HTTP layer is below the handlers that wire it.
    {
      target: lambdas('http'),
      from: ['handlers', 'dimse'].map(lambdas),
      message: 'lambdas/http is wired by the handlers; it imports neither them nor the DIMSE gateway.',
    },
    // Infrastructure (lib/) imports lambdas/, never the reverse.
    {
      target: './lambdas',
      from: './lib',
      message: 'lambdas/ runs in Lambda and the DIMSE container: it never imports lib/ (CDK, CLI, local runtime).',
    },
  ];
}

export default defineConfig(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'coverage/', '.cache/', 'test-artifacts/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...nodeGlobals() } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.d.ts', '.js', '.mjs', '.json'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones() }],
      // A leading underscore marks a value left unused on purpose (a destructured field left out).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Column-aligned CLI output is matched with its literal runs of spaces.
      'no-regex-spaces': 'off',
    },
  },
  // The codec tests byte ranges that include control characters on purpose (ASCII, Latin-1, text
  // without ESC, PS3.5 6.1.2.5).
  { files: ['lambdas/dicom/**/*.ts'], rules: { 'no-control-regex': 'off' } },
  // The OpenJPEG addon's loader is CommonJS, as a native addon's entry is (codecs/openjpeg-native).
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Tests walk untyped JSON (synthesized CloudFormation templates, DICOM JSON responses) with `any`.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  // Services and the codec talk to AWS only through adapters.
  {
    files: ['lambdas/dicom/**/*.ts', 'lambdas/dicomweb/**/*.ts', 'lambdas/send/**/*.ts', 'lambdas/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@aws-sdk/*'], message: 'Only the adapters in lambdas/storage/ use the AWS SDK.' }] },
      ],
    },
  },
);

/** The globals of Node.js that the code uses (no browser globals). */
function nodeGlobals() {
  const names = [
    'AbortController',
    'AbortSignal',
    'Blob',
    'Buffer',
    'Headers',
    'Request',
    'Response',
    'TextDecoder',
    'TextEncoder',
    'URL',
    'URLSearchParams',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'globalThis',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ];
  return Object.fromEntries(names.map((name) => [name, 'readonly']));
}
