/**
 * The synthesized web ACL (lib/constructs/waf.ts) against representative requests: DICOMweb traffic
 * that the core rule set would block passes, and what the rule set guards against outside DICOMweb's
 * needs is still blocked. Evaluated by test/cdk/waf-model.ts over the template's rules.
 */
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_STRING_BYTES } from '../../lib/constructs/waf';
import { synth } from './helpers';
import { evaluateWebAcl, type WafRequest } from './waf-model';

const { template } = synth();
const [webAcl] = Object.values(template.findResources('AWS::WAFv2::WebACL')).map((r) => r.Properties);

const uid = (n: number) => `1.2.826.0.1.3680043.10.1234.${String(n).padStart(20, '7')}`;
const study = uid(1);
const series = uid(2);
const instance = uid(3);
const binary = (bytes: number, ...inserts: string[]) => {
  const body = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) body[i] = (i * 7919) & 0xff;
  let at = 200;
  for (const text of inserts) at += body.write(text, at, 'latin1') + 1000;
  return new Uint8Array(body);
};
const verdict = (r: WafRequest) => evaluateWebAcl(webAcl, r);
const allowed = { action: 'allow' };

describe('WAF web ACL over DICOMweb traffic', () => {
  it('passes a QIDO-RS query with a 5 KB list of Study Instance UIDs (PS3.18 8.3.4.1)', () => {
    const uids = Array.from({ length: 110 }, (_, i) => uid(1000 + i)).join(',');
    const request = { method: 'GET', path: '/prod/studies', query: `StudyInstanceUID=${uids}&includefield=all` };
    expect(request.query.length).toBeGreaterThan(5000);
    expect(verdict(request)).toEqual(allowed);
  });

  it('passes a frame list of 200 frames of a long multi-frame object (PS3.18 10.4.1.1.3)', () => {
    const frames = Array.from({ length: 200 }, (_, i) => i + 1000).join(',');
    const path = `/prod/studies/${study}/series/${series}/instances/${instance}/frames/${frames}`;
    expect(path.length).toBeGreaterThan(1024);
    expect(verdict({ method: 'GET', path, headers: { accept: 'multipart/related; type="application/octet-stream"' } })).toEqual(allowed);
  });

  it('passes a Send to a destination named by its IPv4 address (Sup 248)', () => {
    const query = `destination=${encodeURIComponent('https://10.1.2.3/dicom-web')}`;
    expect(verdict({ method: 'POST', path: `/prod/studies/${study}/send-requests/${uid(9)}`, query })).toEqual(allowed);
  });

  it('passes binary STOW-RS bodies whose bytes happen to look like attacks', () => {
    const body = binary(1_000_000, '<script', '../../etc/passwd', 'http://169.254.169.254/latest');
    for (const type of [
      'multipart/related; type="application/dicom"; boundary=xyz',
      'Multipart/Related; boundary=xyz',
      'application/dicom',
    ]) {
      expect(verdict({ method: 'POST', path: '/prod/studies', headers: { 'content-type': type }, body }), type).toEqual(allowed);
    }
    const json = Buffer.from(JSON.stringify([{ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A<script' }] }, pad: 'x'.repeat(20_000) }]));
    expect(verdict({ method: 'POST', path: '/prod/studies', headers: { 'content-type': 'application/dicom+json' }, body: json })).toEqual(
      allowed,
    );
  });

  it('still blocks the same patterns outside DICOMweb bodies, paths and the Send destination', () => {
    const block = (r: WafRequest) => verdict(r).action;
    expect(
      block({
        method: 'POST',
        path: '/prod/studies',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from('{"a":"<script>"}'),
      }),
    ).toBe('block');
    expect(block({ method: 'POST', path: '/prod/studies', headers: { 'content-type': 'text/plain' }, body: binary(9000) })).toBe('block');
    expect(block({ method: 'POST', path: '/prod/studies', body: Buffer.from('x=../../etc/passwd') })).toBe('block');
    expect(block({ method: 'GET', path: '/prod/studies', query: `PatientName=${encodeURIComponent('http://1.2.3.4/x')}` })).toBe('block');
    expect(block({ method: 'GET', path: '/prod/studies', query: `StudyInstanceUID=${'1'.repeat(MAX_QUERY_STRING_BYTES)}` })).toBe('block');
    expect(block({ method: 'GET', path: `/prod/studies/${study}/../../etc/passwd` })).toBe('block');
    expect(block({ method: 'GET', path: '/prod/studies', query: `PatientName=${encodeURIComponent('<script>')}` })).toBe('block');
    expect(verdict({ method: 'GET', path: `/prod/studies/${study}/frames/${'1,'.repeat(5000)}1` })).toEqual({
      action: 'block',
      by: 'UriPathTooLong',
    });
  });
});
