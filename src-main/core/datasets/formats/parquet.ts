import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { AsyncBuffer, CompressionCodec, Compressors, FileMetaData, SchemaTree } from 'hyparquet';
import { AppError } from '../../../../src-shared/errors.js';
import { getTreePath } from 'hyparquet/src/schema.js';
import { checkFooter, checkPages } from './parquet-checks.js';

/** An AsyncBuffer over an open file: hyparquet reads the footer, then each row group's column chunks, never the whole file. */
function fileBuffer(handle: fs.promises.FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const length = Math.max(0, Math.min(end, size) - start);
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, start + done);
        if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + done}`);
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
}

/** Bytes [start, end) from chunks already read, when they cover the range without a gap (hyparquet may ask for several adjacent chunks at once). */
function fromChunks(chunks: { start: number; bytes: ArrayBuffer }[], start: number, end: number): ArrayBuffer | null {
  const exact = chunks.find((c) => c.start === start && c.start + c.bytes.byteLength === end);
  if (exact) return exact.bytes;
  const out = new Uint8Array(end - start);
  let at = start;
  for (const c of [...chunks].sort((a, b) => a.start - b.start)) {
    const cEnd = c.start + c.bytes.byteLength;
    if (cEnd <= at || c.start > at) continue;
    const to = Math.min(end, cEnd);
    out.set(new Uint8Array(c.bytes, at - c.start, to - at), at - start);
    at = to;
    if (at === end) return out.buffer;
  }
  return null;
}

// hyparquet decodes SNAPPY and UNCOMPRESSED itself; Node's zlib adds GZIP and BROTLI, and ZSTD where the runtime has
// it (Node >= 22.15, so Electron's main process; not the Node 20 of the CLI). LZ4/LZO files are refused with a message.
const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS: Compressors = {
  GZIP: (input) => zlib.unzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(zstd ? { ZSTD: (input: Uint8Array) => zstd(input) } : {}),
};
const READABLE_CODECS = new Set<CompressionCodec>(['UNCOMPRESSED', 'SNAPPY', ...(Object.keys(COMPRESSORS) as CompressionCodec[])]);

export interface ParquetFile {
  metadata: FileMetaData;
  /** Top-level column names, in file order. */
  columns: string[];
  /** Whether a top-level column is a list (e.g. `messages: list<struct<role, content>>`). */
  isList(column: string): boolean;
  /** Row groups one at a time, as objects of the requested columns; `first` is the 0-based index of the group's first row. */
  rowGroups(
    columns: string[],
    signal?: AbortSignal,
  ): AsyncGenerator<{ first: number; rows: Record<string, unknown>[] } | { first: number; count: number; error: string }>;
  close(): Promise<void>;
}

/**
 * Opens a Parquet file and reads its footer. Throws AppError('invalid_input', '<file>: not a Parquet file (…)') when
 * the magic bytes or the footer are wrong, and AppError('invalid_input') when a column uses a compression codec that
 * cannot be decoded here.
 */
export async function openParquet(file: string): Promise<ParquetFile> {
  const name = path.basename(file);
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const notParquet = (why: string) => new AppError('invalid_input', `${name}: not a Parquet file (${why})`);
    if (size < 12) throw notParquet(size === 0 ? 'the file is empty' : `only ${size} bytes`);
    const buffer = fileBuffer(handle, size);
    const magic = Buffer.from(await buffer.slice(0, 4)).toString('latin1');
    if (magic !== 'PAR1') throw notParquet(`it starts with ${JSON.stringify(magic)}, not "PAR1"`);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (e) {
      // hyparquet's own checks say what is wrong; a TypeError from inside it means fields missing or of the wrong type
      const why = e instanceof TypeError ? 'fields of its footer are missing or of the wrong type' : (e as Error).message;
      throw notParquet(`bad footer: ${why}; is the file truncated?`);
    }
    // Every count and offset of the footer against the schema, the file's size and each other, before hyparquet (whose
    // loops trust them) reads anything: a damaged footer is refused here with the reason, not decoded into garbage,
    // a loop over a bogus count, or rows silently missing.
    const damaged = (why: string) => new AppError('invalid_input', `${name}: damaged Parquet file: ${why}`);
    const footerStart = size - 8 - metadata.metadata_length;
    const problem = checkFooter(metadata, footerStart);
    if (problem) throw damaged(problem);
    let schema: SchemaTree;
    try {
      schema = parquetSchema(metadata);
    } catch (e) {
      throw damaged(`its schema cannot be read (${(e as Error).message})`);
    }
    const columns = schema.children.map((c) => c.element.name);
    for (const group of metadata.row_groups) {
      for (const chunk of group.columns) {
        const codec = chunk.meta_data?.codec;
        if (codec && !READABLE_CODECS.has(codec)) {
          throw new AppError(
            'invalid_input',
            `${name}: column "${chunk.meta_data!.path_in_schema.join('.')}" is compressed with ${codec}, which cannot be read here; save the file with snappy, gzip or zstd compression`,
          );
        }
      }
    }
    return {
      metadata,
      columns,
      isList(column) {
        const node = schema.children.find((c) => c.element.name === column);
        return node?.element.converted_type === 'LIST' || node?.element.logical_type?.type === 'LIST' || node?.element.repetition_type === 'REPEATED';
      },
      async *rowGroups(wanted, signal) {
        let first = 0;
        for (const group of metadata.row_groups) {
          signal?.throwIfAborted();
          const count = Number(group.num_rows);
          let rows: Record<string, unknown>[] | null = null;
          let error = '';
          try {
            // The chunks to decode are read once, their pages walked header by header (bounded by the chunk's bytes),
            // then handed to hyparquet from memory.
            const chunks: { start: number; bytes: ArrayBuffer }[] = [];
            for (const chunk of group.columns) {
              if (!wanted.includes(chunk.meta_data!.path_in_schema[0]!)) continue;
              const start = Number(chunk.meta_data!.dictionary_page_offset || chunk.meta_data!.data_page_offset);
              const bytes = await buffer.slice(start, start + Number(chunk.meta_data!.total_compressed_size));
              const bad = checkPages(bytes, chunk.meta_data!, getTreePath(schema, chunk.meta_data!.path_in_schema), COMPRESSORS);
              if (bad) throw new Error(bad);
              chunks.push({ start, bytes });
            }
            const file: AsyncBuffer = { byteLength: size, slice: (start, end = size) => fromChunks(chunks, start, end) ?? buffer.slice(start, end) };
            rows = await parquetReadObjects({ file, metadata, columns: wanted, rowStart: first, rowEnd: first + count, compressors: COMPRESSORS });
            if (rows.length !== count) throw new Error(`${rows.length} rows decoded where the footer says ${count}`);
          } catch (e) {
            error = e instanceof RangeError ? `the data is damaged (${e.message})` : (e as Error).message;
            rows = null;
          }
          yield rows ? { first, rows } : { first, count, error };
          first += count;
        }
      },
      close: () => handle.close(),
    };
  } catch (e) {
    await handle.close();
    throw e;
  }
}
