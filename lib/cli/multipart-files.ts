/**
 * A multipart/related body (RFC 2046 5.1.1) written to files as its bytes arrive: each part's body
 * goes to a file of its own and is handed over once its delimiter has come, so that no part is held
 * in memory whole, whatever its size (lambdas/dicom/multipart.ts's reader hands out whole parts).
 * The first bytes of each part are kept, for the caller to read a header from.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { MultipartError, parseHeaders } from '../../lambdas/dicom/multipart';

export interface FilePart {
  /** The file holding the part's body. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The first `keepBytes` of the body (all of it when shorter). */
  readonly head: Buffer;
  readonly size: number;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * What follows a delimiter at `pos`: the start of the next part (after transport padding and CRLF),
 * 'close' for the close delimiter, 'more' when the bytes end before telling, undefined when it is not
 * a boundary line (the bytes are content).
 */
function afterDelimiter(bytes: Buffer, pos: number): number | 'close' | 'more' | undefined {
  if (pos + 1 >= bytes.length) return 'more';
  if (bytes[pos] === 0x2d) return bytes[pos + 1] === 0x2d ? 'close' : undefined;
  while (bytes[pos] === 0x20 || bytes[pos] === 0x09) pos++;
  if (pos + 1 >= bytes.length) return 'more';
  return bytes[pos] === 0x0d && bytes[pos + 1] === 0x0a ? pos + 2 : undefined;
}

/**
 * Writes each part's body to `pathOf(i)` (i from 0) and yields it when complete. Throws
 * MultipartError for a body without its opening boundary or closing delimiter, or a part whose
 * headers do not end; the file of a part left incomplete is removed.
 */
export async function* writeMultipartFiles(
  chunks: AsyncIterable<Uint8Array>,
  boundary: string,
  pathOf: (index: number) => string,
  keepBytes: number,
): AsyncGenerator<FilePart, void, undefined> {
  if (boundary === '' || boundary.length > 70) throw new MultipartError('invalid boundary');
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  // The opening boundary may start the body without a CRLF: one is put in front.
  let window: Buffer = CRLF;
  let state: 'preamble' | 'headers' | 'body' | 'epilogue' = 'preamble';
  let index = 0;
  let file: { handle: FileHandle; path: string; headers: Record<string, string>; head: Buffer[]; kept: number; size: number } | undefined;

  const write = async (bytes: Buffer) => {
    if (!file || bytes.length === 0) return;
    await file.handle.write(bytes);
    if (file.kept < keepBytes) {
      const kept = bytes.subarray(0, keepBytes - file.kept);
      file.head.push(Buffer.from(kept));
      file.kept += kept.length;
    }
    file.size += bytes.length;
  };

  try {
    for await (const chunk of chunks) {
      if (state === 'epilogue') continue;
      window = Buffer.concat([window, chunk]);
      // Settle what the window holds: parts that end in it, and the bytes that cannot start a delimiter.
      for (let from = 0; ;) {
        if (state === 'headers') {
          const bare = window[0] === 0x0d && window[1] === 0x0a; // a part without headers
          const end = bare ? 0 : window.indexOf(HEADER_END);
          if (end < 0) {
            if (window.length > 64 * 1024) throw new MultipartError('part without the blank line that ends its headers');
            break;
          }
          const headers = bare ? {} : parseHeaders(window.subarray(0, end).toString('latin1'));
          const path = pathOf(index++);
          file = { handle: await open(path, 'w'), path, headers, head: [], kept: 0, size: 0 };
          window = window.subarray(bare ? 2 : end + HEADER_END.length);
          state = 'body';
          from = 0;
        }
        const at = window.indexOf(delimiter, from);
        if (at < 0) {
          // Keep what could be the start of a delimiter the next chunk completes.
          const keep = Math.min(window.length, delimiter.length - 1);
          if (state === 'body') await write(window.subarray(0, window.length - keep));
          window = window.subarray(window.length - keep);
          break;
        }
        const next = afterDelimiter(window, at + delimiter.length);
        if (next === undefined) {
          from = at + 1; // '--boundary' followed by other text is content
          continue;
        }
        if (next === 'more') {
          if (state === 'body') await write(window.subarray(0, at));
          window = window.subarray(at);
          break;
        }
        if (state === 'body' && file) {
          await write(window.subarray(0, at));
          await file.handle.close();
          const done = file;
          file = undefined;
          yield { path: done.path, headers: done.headers, head: Buffer.concat(done.head), size: done.size };
        }
        if (next === 'close') {
          state = 'epilogue';
          window = Buffer.alloc(0);
          break;
        }
        window = window.subarray(next);
        state = 'headers';
        from = 0;
      }
    }
    if (state !== 'epilogue') throw new MultipartError(state === 'preamble' ? 'missing opening boundary' : 'missing closing delimiter');
  } finally {
    if (file) {
      await file.handle.close();
      await rm(file.path, { force: true });
    }
  }
}
