/**
 * The uploads `npm run store` has open, in a small JSON file (default `.store-uploads.json` in the
 * working directory): for each large file cut off mid-upload, the upload's URL at the archive, so
 * that the next run resumes it (GET the upload, send the parts it lacks) instead of sending it all
 * again. An entry holds for the same archive, path, size and modification time only; it goes once
 * the upload is over (stored, failed, aborted or expired). The file is rewritten whole (temporary
 * file + rename), so a killed run leaves it readable, and removed when no upload is open.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';

export interface JournalEntry {
  /** The archive's service root the upload was created at. */
  readonly baseUrl: string;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** The upload resource, absolute: {base}/uploads/{uploadId}. */
  readonly uploadUrl: string;
}

export interface UploadJournal {
  /** The open upload of this file, if one was recorded for the same archive, size and time. */
  find(file: Omit<JournalEntry, 'uploadUrl'>): JournalEntry | undefined;
  record(entry: JournalEntry): Promise<void>;
  forget(file: Pick<JournalEntry, 'baseUrl' | 'path'>): Promise<void>;
}

const keyOf = (e: Pick<JournalEntry, 'baseUrl' | 'path'>) => `${e.baseUrl}\0${e.path}`;

/** Opens the journal at `file`; a missing or unreadable file is an empty journal. */
export async function openUploadJournal(file: string): Promise<UploadJournal> {
  const entries = new Map<string, JournalEntry>();
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (Array.isArray(parsed)) for (const e of parsed as JournalEntry[]) if (typeof e?.uploadUrl === 'string') entries.set(keyOf(e), e);
  } catch {
    // none yet, or not ours: start empty
  }
  let writing = Promise.resolve();
  // Writes are chained, so concurrent uploads never interleave two renames.
  const save = () => {
    writing = writing.then(async () => {
      if (entries.size === 0) return rm(file, { force: true });
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, `${JSON.stringify([...entries.values()], null, 2)}\n`);
      await rename(temp, file);
    });
    return writing;
  };
  return {
    find(f) {
      const e = entries.get(keyOf(f));
      return e && e.size === f.size && e.mtimeMs === f.mtimeMs ? e : undefined;
    },
    record(entry) {
      entries.set(keyOf(entry), entry);
      return save();
    },
    forget(f) {
      if (!entries.delete(keyOf(f))) return writing;
      return save();
    },
  };
}

/** A journal that keeps nothing (tests, --no-resume-uploads). */
export const NO_JOURNAL: UploadJournal = { find: () => undefined, record: async () => {}, forget: async () => {} };
