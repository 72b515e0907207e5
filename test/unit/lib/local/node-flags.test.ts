import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_NODE_FLAGS, ARCHIVE_START } from '../../../../lib/local/node-flags';

describe('ARCHIVE_NODE_FLAGS', () => {
  it('are the flags package.json "start" passes to node', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../../../package.json'), 'utf8')) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(`node ${ARCHIVE_NODE_FLAGS.join(' ')} ${ARCHIVE_START}`);
  });
});
