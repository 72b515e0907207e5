/**
 * Data sets as dcmjs holds them (the dict ./part10.ts reads), and one written in code by keyword
 * (`{ PatientName: 'SMOKE^TEST', Rows: 4 }`), each value given the VR of the data dictionary (PS3.6):
 * what test data and the deploy smoke test build instances from.
 */
import { tagOf, vrOf } from './dictionary';

/** A data set as dcmjs holds it: tag ('GGGGEEEE') -> { vr, Value }, sequences as arrays of data sets. */
export type DataSet = Record<string, { vr: string; Value?: unknown[] }>;

/** The first value of a string element, without its padding; '' when absent. */
export function firstString(set: DataSet, tag: string): string {
  const value = set[tag]?.Value?.[0];
  return typeof value === 'string' ? value.replace(/[\0 ]+$/, '') : '';
}

/** Converts a keyword-valued attribute into a dcmjs element, using the dictionary VR. */
function element(keyword: string, value: unknown): [string, DataSet[string]] {
  const tag = tagOf(keyword);
  const vr = tag === undefined ? undefined : vrOf(tag);
  if (tag === undefined || vr === undefined) throw new Error(`data set: unknown keyword ${keyword}`);
  const values = Array.isArray(value) ? value : [value];
  if (vr === 'SQ') return [tag, { vr, Value: values.map((item) => dataSet(item as Record<string, unknown>)) }];
  if (vr === 'PN') return [tag, { vr, Value: values.map((v) => (typeof v === 'string' ? { Alphabetic: v } : v)) }];
  if (vr === 'AT') return [tag, { vr, Value: values.map((v) => (typeof v === 'string' ? Number.parseInt(tagOf(v) ?? v, 16) : v)) }];
  return [tag, { vr, Value: values }];
}

/** A dcmjs data set from keyword-valued attributes (a sequence as an array of such objects; undefined left out). */
export function dataSet(attributes: Record<string, unknown>): DataSet {
  return Object.fromEntries(
    Object.entries(attributes)
      .filter(([, value]) => value !== undefined)
      .map(([keyword, value]) => element(keyword, value)),
  );
}
