/**
 * Parquet files built byte by byte that no writer would make, for the tests and the fuzzer's seeds: valid by every
 * count the footer and page headers give, and yet ruinous to decode.
 */
import fs from 'node:fs';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { FileMetaData } from 'hyparquet';

/**
 * A Parquet file of one optional string column "prompt" whose `pages` pages each hold `perPage` null rows as a single
 * run-length encoded run of definition levels: a few hundred bytes on disk, billions of rows to decode. A `run` other
 * than `perPage` makes the run disagree with the page.
 */
export function nullRowsParquet(file: string, pages: number, perPage: number, run = perPage): void {
  const w = new ByteWriter();
  w.appendBytes(new TextEncoder().encode('PAR1'));
  const start = w.offset;
  for (let p = 0; p < pages; p++) {
    const levels = new ByteWriter();
    levels.appendVarInt(run * 2); // an RLE run: count << 1 (`run` may lie about the page's values)
    levels.appendUint8(0); // of level 0, null
    writePageHeader(w, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.offset,
      compressed_page_size: levels.offset,
      data_page_header_v2: {
        num_values: perPage,
        num_nulls: perPage,
        num_rows: perPage,
        encoding: 'PLAIN',
        definition_levels_byte_length: levels.offset,
        repetition_levels_byte_length: 0,
        is_compressed: false,
      },
    });
    w.appendBytes(levels.getBytes());
  }
  const size = BigInt(w.offset - start);
  const rows = BigInt(pages) * BigInt(perPage);
  const metadata: FileMetaData = {
    version: 2,
    schema: [
      { name: 'schema', num_children: 1 },
      { name: 'prompt', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
    num_rows: rows,
    row_groups: [
      {
        columns: [
          {
            file_offset: BigInt(start),
            meta_data: {
              type: 'BYTE_ARRAY',
              encodings: ['PLAIN', 'RLE'],
              path_in_schema: ['prompt'],
              codec: 'UNCOMPRESSED',
              num_values: rows,
              total_uncompressed_size: size,
              total_compressed_size: size,
              data_page_offset: BigInt(start),
            },
          },
        ],
        total_byte_size: size,
        num_rows: rows,
      },
    ],
    metadata_length: 0,
  };
  const footer = new ByteWriter();
  writeMetadata(footer, metadata);
  const length = new ByteWriter();
  length.appendUint32(footer.offset);
  fs.writeFileSync(
    file,
    Buffer.concat([new Uint8Array(w.getBuffer()), new Uint8Array(footer.getBuffer()), new Uint8Array(length.getBuffer()), Buffer.from('PAR1')]),
  );
}
