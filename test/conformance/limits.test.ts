/**
 * The limits README.md and docs/ (configuration, conformance statement, performance, send-rs) state are the ones the
 * code enforces: each number is read from the documents and compared with the constant it names, so
 * a changed constant or a stale figure fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_REQUEST_BYTES, LAMBDA_MAX_STREAMED_RESPONSE_BYTES, loadConfig, SEND_WAIT_MS_MAX } from '../../lambdas/config';
import { BUFFERED_FUNCTION_TIMEOUT_SECONDS, STREAMED_FUNCTION_TIMEOUT_SECONDS } from '../../lambdas/http/routes';
import { STREAMED_INSTANCE_BYTES } from '../../lambdas/send/stored-instances';
import { sendTaskFunctions } from '../../lib/send-workflow';

const root = path.resolve(__dirname, '../..');
const docs = {
  readme: readFileSync(path.join(root, 'README.md'), 'utf8'),
  configuration: readFileSync(path.join(root, 'docs/configuration.md'), 'utf8'),
  conformance: readFileSync(path.join(root, 'docs/conformance-statement.md'), 'utf8'),
  performance: readFileSync(path.join(root, 'docs/performance.md'), 'utf8'),
  sendRs: readFileSync(path.join(root, 'docs/send-rs.md'), 'utf8'),
};
type Doc = keyof typeof docs;

const number = (text: string) => Number(text.replaceAll(',', ''));

/** The first number of the cell after the one naming `variable`, in every table row naming it. */
function tableDefaults(doc: Doc, variable: string): number[] {
  return docs[doc]
    .split('\n')
    .filter((line) => line.startsWith('|') && line.split('|')[1]!.includes(`\`${variable}\``))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      // The Send table has a Configurable column between the name and the default.
      const cell = /^\d/.test(cells[2]!) ? cells[2]! : cells[3]!;
      return number(/^[\d,]+/.exec(cell)![0]);
    });
}

/** Every number the pattern's first group captures in the document. */
function stated(doc: Doc, pattern: RegExp): number[] {
  return [...docs[doc].matchAll(new RegExp(pattern, 'g'))].map((m) => number(m[1]!));
}

const defaults = loadConfig({ BUCKET_NAME: 'b', TABLE_NAME: 't' });

describe('limits stated in the documents', () => {
  it('configures the defaults from the constants', () => {
    expect(defaults.maxRequestBytes).toBe(LAMBDA_MAX_REQUEST_BYTES);
    expect(defaults.maxResponseBytes).toBe(LAMBDA_MAX_STREAMED_RESPONSE_BYTES);
  });

  it.each(['configuration', 'conformance'] as const)('%s: MAX_REQUEST_BYTES and MAX_RESPONSE_BYTES rows state the constants', (doc) => {
    expect(tableDefaults(doc, 'MAX_REQUEST_BYTES')).toEqual([LAMBDA_MAX_REQUEST_BYTES]);
    expect(tableDefaults(doc, 'MAX_RESPONSE_BYTES')).toEqual([LAMBDA_MAX_STREAMED_RESPONSE_BYTES]);
  });

  it.each(['configuration', 'conformance', 'sendRs'] as const)("%s: SEND_WAIT_MS's bound is SEND_WAIT_MS_MAX", (doc) => {
    const rows = docs[doc].split('\n').filter((line) => line.startsWith('|') && line.includes('`SEND_WAIT_MS`'));
    const bounds = rows.flatMap((row) => [...row.matchAll(/\(at most ([\d,]+)\)/g)].map((m) => number(m[1]!)));
    expect(bounds.length).toBeGreaterThan(0);
    expect(new Set(bounds)).toEqual(new Set([SEND_WAIT_MS_MAX]));
  });

  it('README: the Store and retrieve limits in prose are the constants', () => {
    expect(stated('readme', /Store request carries at most ([\d,]+) bytes/)).toEqual([LAMBDA_MAX_REQUEST_BYTES]);
    expect(stated('readme', /streams up to 200 MB \(([\d,]+) bytes\)/)).toEqual([LAMBDA_MAX_STREAMED_RESPONSE_BYTES]);
  });

  it("performance and conformance: the functions' timeouts are the route table's", () => {
    expect(stated('performance', /streaming functions' ([\d,]+) s timeout/)).toEqual([STREAMED_FUNCTION_TIMEOUT_SECONDS]);
    expect(stated('conformance', /NPI functions' ([\d,]+) s/)).toEqual([STREAMED_FUNCTION_TIMEOUT_SECONDS]);
    expect(stated('performance', /answer buffered within ([\d,]+) s/)).toEqual([BUFFERED_FUNCTION_TIMEOUT_SECONDS]);
  });

  it('send-rs and conformance: large instances are streamed above STREAMED_INSTANCE_BYTES; Deliver has its memory', () => {
    const mib = (doc: Doc) => stated(doc, /instance above ([\d,]+) MiB/).map((n) => n * 1024 * 1024);
    expect([...mib('sendRs'), ...mib('conformance')]).toEqual([STREAMED_INSTANCE_BYTES, STREAMED_INSTANCE_BYTES]);
    expect(stated('sendRs', /Deliver has ([\d,]+) MB/)).toEqual([sendTaskFunctions.deliver.memorySize]);
  });

  it.each(Object.keys(docs) as Doc[])('%s: states the request limit only as the constant', (doc) => {
    const claims = [/request limit \(([\d,]+) bytes/, /request is anyway at most ([\d,]+) bytes/, /carries at most ([\d,]+) bytes/].flatMap(
      (p) => stated(doc, p),
    );
    for (const claim of claims) expect(claim).toBe(LAMBDA_MAX_REQUEST_BYTES);
    expect(docs[doc]).not.toMatch(/6,225,920/);
  });
});
