import { describe, expect, it } from 'vitest';
import {
  GENERATED_BEGIN,
  GENERATED_END,
  comparisonMarkdown,
  comparisonText,
  figure,
  meetsTarget,
  ratio,
  replaceGenerated,
  type ComparisonRow,
} from '../../bench/report';

const throughput: ComparisonRow = { measure: 'STOW-RS', unit: 'instances/s', archive: 50, orthanc: 200, better: 'higher' };
const latency: ComparisonRow = { measure: 'p95', unit: 'ms', archive: 5, orthanc: 10, better: 'lower' };

describe('bench report', () => {
  it('divides the archive by Orthanc and judges the target by the direction of the measure', () => {
    expect(ratio(throughput)).toBe(0.25);
    expect(meetsTarget(throughput)).toBe(false);
    expect(meetsTarget({ ...throughput, archive: 200 })).toBe(true);
    expect(meetsTarget(latency)).toBe(true);
    expect(meetsTarget({ ...latency, archive: 11 })).toBe(false);
  });

  it('has no ratio and no verdict without both figures', () => {
    const archiveOnly = { ...throughput, orthanc: undefined };
    expect(ratio(archiveOnly)).toBeUndefined();
    expect(meetsTarget(archiveOnly)).toBeUndefined();
    expect(comparisonText([archiveOnly])).toMatch(/STOW-RS\s+50 instances\/s\s+–\s+–/);
  });

  it('prints three significant digits', () => {
    expect(figure(1234.567)).toBe('1,235');
    expect(figure(12.345)).toBe('12.3');
    expect(figure(0.012345)).toBe('0.012');
    expect(figure(undefined)).toBe('–');
  });

  it('writes a Markdown row per measure with the ratio and the verdict', () => {
    const md = comparisonMarkdown([throughput]).split('\n');
    expect(md).toHaveLength(3);
    expect(md[2]).toBe('| STOW-RS | 50 instances/s | 200 instances/s | 0.25x | NO |');
  });

  it('replaces only the generated block of the document, keeping the hand-written text', () => {
    const doc = `# Performance\n\nintro\n\n${GENERATED_BEGIN}\nold figures\n${GENERATED_END}\n\n## Findings\nkept\n`;
    const updated = replaceGenerated(doc, 'new figures');
    expect(updated).toContain('intro');
    expect(updated).toContain('## Findings\nkept');
    expect(updated).toContain(`${GENERATED_BEGIN}\nnew figures\n${GENERATED_END}`);
    expect(updated).not.toContain('old figures');
    expect(replaceGenerated('# Title\n', 'x')).toBe(`# Title\n\n${GENERATED_BEGIN}\nx\n${GENERATED_END}\n`);
  });
});
