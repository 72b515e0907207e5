/**
 * Unit: npm run cost (lib/cli/cost.ts) runs offline from the committed measured figures and price
 * table: every workload of docs/cost.md and the idle deployment priced, --write-docs rewriting only
 * the generated block, options checked.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DOCS_BEGIN, DOCS_END, main } from '../../../../lib/cli/cost';

const ROOT = path.join(__dirname, '../../../..');

function run(argv: string[], root = ROOT) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } }, root);
  return { code, stdout, stderr };
}

const dollars = (text: string, row: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`| ${row}`));
  if (!line) throw new Error(`no row ${row}`);
  return line
    .split('|')
    .slice(2, 7)
    .map((c) => Number(c.trim().replace(/[$,]/g, '').split(' ')[0]));
};

describe('npm run cost', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('prices every workload on the archive and the four alternatives, and the idle deployment', () => {
    const { code, stdout } = run([]);
    expect(code).toBe(0);
    for (const row of ['1,000 instances', 'CT, 500 x 0.5 MB', 'MR, 300 x 0.25 MB', 'Teleradiology group', 'Hospital share']) {
      const figures = dollars(stdout, row);
      expect(figures, row).toHaveLength(5);
      for (const f of figures) expect(f, row).toBeGreaterThan(0);
    }
    expect(stdout).toMatch(/Default stack \(WAF on, no DIMSE gateway\): \*\*\$\d+\.\d\d a month\*\*/);
    expect(stdout).toContain('NAT gateway');
  });

  it('docs/cost.md holds the tables the committed figures and prices give (npm run cost -- --write-docs)', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/cost.md'), 'utf8');
    const block = doc.slice(doc.indexOf(DOCS_BEGIN) + DOCS_BEGIN.length, doc.indexOf(DOCS_END)).trim();
    expect(block).toBe(run([]).stdout.trim());
  });

  it('tiering and transfer change the figures they should', () => {
    const month = (argv: string[]) => dollars(run(argv).stdout, 'Hospital share')[0]!;
    const standard = month(['--instance-tier', 'none']);
    expect(month([])).toBeLessThan(standard);
    expect(month(['--no-egress'])).toBeLessThan(month([]));
    // Every column under the same transfer assumption.
    const alternatives = (argv: string[]) => dollars(run(argv).stdout, 'Teleradiology group').slice(1);
    const withEgress = alternatives([]);
    alternatives(['--no-egress']).forEach((usd, i) => expect(usd).toBeLessThan(withEgress[i]!));
  });

  it('--write-docs rewrites the block between the markers and nothing else', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cost-cli-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'docs/cost'), { recursive: true });
    for (const f of ['docs/cost/measured.json', 'docs/cost/prices-us-east-1.json']) copyFileSync(path.join(ROOT, f), path.join(dir, f));
    writeFileSync(path.join(dir, 'docs/cost.md'), `# before\n\n${DOCS_BEGIN}\nold\n${DOCS_END}\n\n## after\n`);
    expect(run(['--write-docs'], dir).code).toBe(0);
    const doc = readFileSync(path.join(dir, 'docs/cost.md'), 'utf8');
    expect(doc.startsWith(`# before\n\n${DOCS_BEGIN}\n`)).toBe(true);
    expect(doc).not.toContain('\nold\n');
    expect(doc).toContain('Teleradiology group');
    expect(doc.endsWith(`${DOCS_END}\n\n## after\n`)).toBe(true);
  });

  it('refuses an unknown tier or option with the usage, and a missing price file with its name', () => {
    expect(run(['--instance-tier', 'glacier']).code).toBe(2);
    expect(run(['--bogus']).code).toBe(2);
    const missing = run(['--prices', 'docs/cost/none.json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('none.json');
  });
});
