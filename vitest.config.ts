import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', 'cdk.out/**', '.data/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A temporary directory per test file, removed after it (test/support/file-tmpdir.ts).
    setupFiles: ['test/support/file-tmpdir.ts'],
  },
});
