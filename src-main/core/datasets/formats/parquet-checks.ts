/**
 * Checks of a Parquet file's counts and offsets, made before hyparquet decodes it: hyparquet trusts the footer (a
 * schema whose child counts overrun the list was "Cannot read properties of undefined", a row group count that
 * disagrees with the file's was rows silently dropped, a page size past the chunk a read out of bounds). Each check
 * returns the reason in words, or null; none recurses or loops over anything but the footer's own lists and the
 * bytes of one column chunk, each step consuming at least one byte.
 */
import type { ColumnMetaData, Compressors, FileMetaData, PageHeader, SchemaElement, SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel } from 'hyparquet/src/schema.js';
import { MAX_JSON_DEPTH } from '../../json-depth.js';

/** A page larger than this (uncompressed) is a damaged size, not data: real pages are around 1 MiB. */
export const MAX_PAGE_BYTES = 1 << 30;
/**
 * Values in one page: writers close a page at ~1 MiB or 20,000 rows. hyparquet sizes its arrays by this count, and
 * one of a billion entries (a few bytes on disk, run-length encoded) killed the whole process, not just the thread.
 */
export const MAX_PAGE_VALUES = 1 << 21;

/** A count as a message shows it: "no" when the footer or header lacks it. */
const shown = (v: unknown): string => (v === undefined || v === null ? 'no' : String(v));

const count = (v: unknown): number | null => {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
};

interface Leaf {
  path: string;
  repeated: boolean;
}

/** The leaf columns of a flat schema list (each group followed by its children), or why it is not a tree. */
function schemaLeaves(schema: SchemaElement[]): Leaf[] | string {
  const root = schema[0];
  if (!root) return 'its schema is empty';
  const rootChildren = count(root.num_children ?? 0);
  if (rootChildren === null) return `its schema root has ${shown(root.num_children)} children`;
  const leaves: Leaf[] = [];
  // an explicit stack of (children left, path, repeated above): no recursion however deep the schema claims to be
  const stack: { left: number; path: string[]; repeated: boolean }[] = [{ left: rootChildren, path: [], repeated: false }];
  let i = 1;
  while (stack.length) {
    const top = stack.at(-1)!;
    if (top.left === 0) {
      stack.pop();
      continue;
    }
    top.left--;
    const element = schema[i++];
    if (!element) return `its schema lists ${schema.length} elements but their child counts need more`;
    const children = count(element.num_children ?? 0);
    if (children === null) return `schema element "${element.name}" has ${shown(element.num_children)} children`;
    const path = [...top.path, String(element.name)];
    const repeated = top.repeated || element.repetition_type === 'REPEATED';
    if (children === 0) leaves.push({ path: path.join('.'), repeated });
    else {
      if (stack.length >= MAX_JSON_DEPTH) return `its schema nests deeper than ${MAX_JSON_DEPTH} levels`;
      stack.push({ left: children, path, repeated });
    }
  }
  if (i !== schema.length) return `its schema lists ${schema.length} elements but the tree holds ${i}`;
  return leaves;
}

/**
 * The footer's counts against each other and the file: the schema is a tree; each row group has one chunk per leaf
 * column, lying between the magic bytes and the footer (`footerStart`); a flat column holds exactly one value per row,
 * a repeated one at least one; and the row groups' rows add up to the file's.
 */
export function checkFooter(metadata: FileMetaData, footerStart: number): string | null {
  const leaves = schemaLeaves(metadata.schema);
  if (typeof leaves === 'string') return leaves;
  const byPath = new Map(leaves.map((l) => [l.path, l]));
  const fileRows = count(metadata.num_rows);
  if (fileRows === null) return `the footer gives ${shown(metadata.num_rows)} rows`;
  let rows = 0;
  for (const [g, group] of metadata.row_groups.entries()) {
    const groupRows = count(group.num_rows);
    if (groupRows === null) return `row group ${g + 1} has ${shown(group.num_rows)} rows`;
    rows += groupRows;
  }
  if (rows !== fileRows) return `its row groups hold ${rows} rows but the footer says the file has ${fileRows}`;
  for (const [g, group] of metadata.row_groups.entries()) {
    const where = `row group ${g + 1}`;
    const groupRows = Number(group.num_rows);
    if (group.columns.length !== leaves.length) return `${where} has ${group.columns.length} column chunks for ${leaves.length} columns`;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) return `${where} has a column chunk without metadata`;
      if (chunk.file_path) return `${where} keeps a column in another file (${chunk.file_path}), which is not supported`;
      const name = meta.path_in_schema.join('.');
      const leaf = byPath.get(name);
      if (!leaf) return `${where} has a chunk for "${name}", which is not a column of its schema`;
      const values = count(meta.num_values);
      if (values === null) return `column "${name}" of ${where} has ${shown(meta.num_values)} values`;
      const start = count(meta.dictionary_page_offset || meta.data_page_offset);
      const size = count(meta.total_compressed_size);
      if (start === null || size === null || start < 4 || start + size > footerStart) {
        return `column "${name}" of ${where} lies at bytes ${shown(meta.dictionary_page_offset || meta.data_page_offset)}+${shown(meta.total_compressed_size)}, outside the data (4 to ${footerStart})`;
      }
      if (leaf.repeated ? values < groupRows : values !== groupRows) {
        return `${where} says it has ${groupRows} rows but its column "${name}" holds ${values} values`;
      }
    }
  }
  return null;
}

/**
 * The pages of one column chunk, header by header: each page lies inside the chunk, its sizes are sane, and the data
 * pages' values add up to the chunk's `num_values` (else rows would be dropped or invented while decoding).
 */
export function checkPages(bytes: ArrayBuffer, meta: ColumnMetaData, schemaPath: SchemaTree[], compressors: Compressors): string | null {
  const name = `column "${meta.path_in_schema.join('.')}"`;
  const reader = { view: new DataView(bytes), offset: 0 };
  let values = 0;
  let pages = 0;
  while (reader.offset < bytes.byteLength) {
    const at = reader.offset;
    let header;
    try {
      header = parquetHeader(reader); // reads at least one byte, or throws
    } catch (e) {
      return `${name}: page header at byte ${at} of its chunk cannot be read (${(e as Error).message})`;
    }
    pages++;
    const compressed = count(header.compressed_page_size);
    const uncompressed = count(header.uncompressed_page_size);
    if (compressed === null || reader.offset + compressed > bytes.byteLength) {
      return `${name}: page ${pages} claims ${shown(header.compressed_page_size)} bytes, past the end of its chunk`;
    }
    if (uncompressed === null || uncompressed > MAX_PAGE_BYTES)
      return `${name}: page ${pages} claims ${shown(header.uncompressed_page_size)} bytes uncompressed`;
    const data = header.data_page_header ?? header.data_page_header_v2 ?? header.dictionary_page_header;
    if (data) {
      const n = count(data.num_values);
      if (n === null || n > MAX_PAGE_VALUES) return `${name}: page ${pages} claims ${shown(data.num_values)} values (at most ${MAX_PAGE_VALUES} are read)`;
      if (!header.dictionary_page_header) values += n;
    }
    if (header.data_page_header_v2) {
      const v2 = header.data_page_header_v2;
      const levels = [v2.definition_levels_byte_length, v2.repetition_levels_byte_length].map(count);
      if (levels.includes(null) || levels[0]! + levels[1]! > compressed || count(v2.num_nulls) === null || v2.num_nulls > v2.num_values) {
        return `${name}: page ${pages} has inconsistent level sizes or null count`;
      }
    }
    if (header.data_page_header || header.data_page_header_v2) {
      const page = new Uint8Array(bytes, reader.offset, compressed);
      let bad: string | null;
      try {
        bad = checkRuns(page, header, meta, schemaPath, compressors);
      } catch (e) {
        bad = `its data cannot be read (${(e as Error).message})`;
      }
      if (bad) return `${name}: page ${pages}: ${bad}`;
    }
    reader.offset += compressed;
  }
  if (values !== Number(meta.num_values)) return `${name}: its pages hold ${values} values but the footer says ${Number(meta.num_values)}`;
  return null;
}

const bitWidth = (max: number) => 32 - Math.clz32(max);

/**
 * The run-length encoded runs of a page's levels and dictionary indices, read as hyparquet reads them (its varint,
 * its 32-bit arithmetic): hyparquet writes each run whole into an array sized by the page's value count, so a run
 * longer than the values left grows that array without bound (a 2^30 run was a fatal out-of-memory of the process).
 */
function checkRuns(page: Uint8Array, header: PageHeader, meta: ColumnMetaData, schemaPath: SchemaTree[], compressors: Compressors): string | null {
  const maxRep = schemaPath.length > 1 ? getMaxRepetitionLevel(schemaPath) : 0;
  const maxDef = getMaxDefinitionLevel(schemaPath);
  const v1 = header.data_page_header;
  const v2 = header.data_page_header_v2;
  const n = Number((v1 ?? v2)!.num_values);
  const dictionary = (encoding: string) => encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY' || (encoding === 'RLE' && meta.type !== 'BOOLEAN');
  if (v1) {
    const bytes = decompressPage(page, Number(header.uncompressed_page_size), meta.codec, compressors);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;
    for (const max of [maxRep, maxDef]) {
      if (!max) continue;
      const length = view.getUint32(pos, true);
      const bad = checkHybrid(view, pos + 4, bitWidth(max), n);
      if (bad) return `its ${max === maxRep ? 'repetition' : 'definition'} levels: ${bad}`;
      pos += 4 + length;
    }
    if (dictionary(v1.encoding) && pos < view.byteLength) return checkHybrid(view, pos + 1, view.getUint8(pos), n, 'dictionary indices');
    if (v1.encoding === 'RLE' && meta.type === 'BOOLEAN') return checkHybrid(view, pos + 4, 1, n, 'values');
    return null;
  }
  const v = v2!;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  if (maxRep) {
    const bad = checkHybrid(view, 0, bitWidth(maxRep), n, 'repetition levels', v.repetition_levels_byte_length);
    if (bad) return bad;
  }
  if (maxDef) {
    const bad = checkHybrid(
      view,
      v.repetition_levels_byte_length,
      bitWidth(maxDef),
      n,
      'definition levels',
      v.repetition_levels_byte_length + v.definition_levels_byte_length,
    );
    if (bad) return bad;
  }
  if (!dictionary(v.encoding) && v.encoding !== 'RLE') return null;
  let values = page.subarray(v.repetition_levels_byte_length + v.definition_levels_byte_length);
  if (v.is_compressed !== false) {
    const size = Number(header.uncompressed_page_size) - v.repetition_levels_byte_length - v.definition_levels_byte_length;
    values = decompressPage(values, size, meta.codec, compressors);
  }
  const vv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  if (!values.length) return null;
  return dictionary(v.encoding) ? checkHybrid(vv, 1, vv.getUint8(0), n, 'dictionary indices') : checkHybrid(vv, 4, 1, n, 'values');
}

/** A hybrid stream from `start` (to `end` at most): no run-length run writes past `expected` values; null when none does. */
function checkHybrid(view: DataView, start: number, width: number, expected: number, what = '', end = view.byteLength): string | null {
  const label = what ? `its ${what}: ` : '';
  let seen = 0;
  let pos = start;
  while (seen < expected && pos < end) {
    // hyparquet's readVarInt, 32-bit
    let header = 0;
    let shift = 0;
    let byte: number;
    do {
      if (pos >= end) return null; // hyparquet stops here with an error of its own
      byte = view.getUint8(pos++);
      header |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    if (header & 1) {
      const values = (header >> 1) << 3;
      if (values < 0) return `${label}a bit-packed run of ${values} values`;
      seen += values;
      pos += (header >> 1) * width;
    } else {
      const run = header >>> 1;
      if (run > expected - seen) return `${label}a run of ${run} values where ${expected - seen} remain`;
      seen += run;
      pos += (width + 7) >> 3;
    }
  }
  return null;
}
