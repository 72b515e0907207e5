/**
 * The representative instance of a study or series for its thumbnail (PS3.18 10.4.1.1.4 leaves the
 * choice to the origin server): of a series, its middle image in Instance Number order; of a study,
 * that of its first series in Series Number order. Only instances with Pixel Data count, so a study
 * whose first series is a report still has a thumbnail. Documented in docs/conformance-statement.md.
 */
import { Tag } from '../dicom/tags';
import type { IndexEntry } from '../storage/ports';

/** A number attribute (IS) of an entry; undefined when absent or not a number. */
function numberAttribute(entry: IndexEntry, tag: string): number | undefined {
  const value = entry.attributes[tag]?.Value?.[0];
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Ascending by the number, entries without one last, then by UID: a total order, the same every time. */
function byNumberThenUid(tag: string, uidOf: (e: IndexEntry) => string) {
  return (a: IndexEntry, b: IndexEntry): number => {
    const na = numberAttribute(a, tag);
    const nb = numberAttribute(b, tag);
    if (na !== nb) {
      if (na === undefined) return 1;
      if (nb === undefined) return -1;
      return na - nb;
    }
    return uidOf(a) < uidOf(b) ? -1 : uidOf(a) > uidOf(b) ? 1 : 0;
  };
}

/** Whether an instance entry has frames to render (the index keeps 0 without Pixel Data). */
export function isImage(entry: IndexEntry): boolean {
  return (entry.instance?.numberOfFrames ?? 0) > 0;
}

/** The middle image of one series' instance entries (the lower middle of an even count). */
export function representativeOfSeries(entries: readonly IndexEntry[]): IndexEntry | undefined {
  const images = entries.filter(isImage).sort(byNumberThenUid(Tag.InstanceNumber, (e) => e.sopInstanceUID!));
  return images[Math.floor((images.length - 1) / 2)];
}

/** The representative image of a study's instance entries: that of its first series holding images. */
export function representativeOfStudy(entries: readonly IndexEntry[]): IndexEntry | undefined {
  const bySeries = new Map<string, IndexEntry[]>();
  for (const entry of entries.filter(isImage)) {
    const list = bySeries.get(entry.seriesInstanceUID!) ?? [];
    list.push(entry);
    bySeries.set(entry.seriesInstanceUID!, list);
  }
  // Series Number is a series attribute, carried by each of its instance entries (ports.ts IndexEntry).
  const first = [...bySeries.values()].map((list) => list[0]!).sort(byNumberThenUid(Tag.SeriesNumber, (e) => e.seriesInstanceUID!))[0];
  return first && representativeOfSeries(bySeries.get(first.seriesInstanceUID!)!);
}
