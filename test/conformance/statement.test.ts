/**
 * The conformance statement tells the truth: every status-code row of docs/conformance-statement.md
 * names (in its Test column) an identifier, and some test carries that identifier in its name, e.g.
 * `it('[studies.store.409] ...')`; and no test names a row that does not exist.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const ID = /^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$/;

/** Identifiers in the last cell of the statement's table rows. */
export function statementRows(markdown: string): string[] {
  const ids: string[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || line.startsWith('|---')) continue;
    const cells = line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|');
    const last = cells[cells.length - 1]!.trim();
    for (const m of last.matchAll(/`([^`]+)`/g)) if (ID.test(m[1]!)) ids.push(m[1]!);
  }
  return ids;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return testFiles(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Identifiers named in test titles: `[a.b.c]` inside the first argument of it/test/describe. */
export function testTags(source: string): string[] {
  const tags: string[] = [];
  for (const title of source.matchAll(/\b(?:it|test|describe)(?:\.each\([\s\S]*?\))?\(\s*(['`"])((?:\\.|(?!\1).)*)\1/g)) {
    for (const m of title[2]!.matchAll(/\[([^\]\s]+)\]/g)) if (ID.test(m[1]!)) tags.push(m[1]!);
  }
  return tags;
}

describe('conformance statement rows <-> tests', () => {
  const rows = statementRows(readFileSync(path.join(root, 'docs/conformance-statement.md'), 'utf8'));
  const tagged = new Map<string, string[]>();
  // This file's own examples are not claims about the archive.
  for (const file of testFiles(path.join(root, 'test')).filter((f) => f !== __filename)) {
    for (const tag of testTags(readFileSync(file, 'utf8'))) tagged.set(tag, [...(tagged.get(tag) ?? []), path.relative(root, file)]);
  }

  it('the statement has status-code rows with identifiers, each named once', () => {
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.filter((id, i) => rows.indexOf(id) !== i)).toEqual([]);
  });

  it('every row has a test that produces its condition', () => {
    expect(rows.filter((id) => !tagged.has(id))).toEqual([]);
  });

  it('every tagged test belongs to a row', () => {
    expect([...tagged.keys()].filter((tag) => !rows.includes(tag))).toEqual([]);
  });

  it('the parsers find what they should (so the checks above can fail)', () => {
    expect(statementRows('| Failure | 409 (Conflict) | none stored | `x.store.409` |\n|---|---|')).toEqual(['x.store.409']);
    expect(testTags("it('[x.store.409] [x.y.z] refuses', () => {})\nit.each([1])('[a.b] %i', () => {})")).toEqual([
      'x.store.409',
      'x.y.z',
      'a.b',
    ]);
  });
});
