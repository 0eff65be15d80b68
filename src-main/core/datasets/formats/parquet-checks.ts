/**
 * Checks of a Parquet file's counts and offsets, made before hyparquet decodes it: hyparquet trusts the footer (a
 * schema whose child counts overrun the list was "Cannot read properties of undefined", a row group count that
 * disagrees with the file's was rows silently dropped, a page size past the chunk a read out of bounds). Each check
 * returns the reason in words, or null; none recurses or loops over anything but the footer's own lists and the
 * bytes of one column chunk, each step consuming at least one byte.
 */
import type { ColumnMetaData, FileMetaData, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { MAX_JSON_DEPTH } from '../../json-depth.js';

/** A page larger than this (uncompressed) is a damaged size, not data: real pages are around 1 MiB. */
export const MAX_PAGE_BYTES = 1 << 30;

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
  if (rootChildren === null) return `its schema root has ${String(root.num_children)} children`;
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
    if (children === null) return `schema element "${element.name}" has ${String(element.num_children)} children`;
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
  if (fileRows === null) return `the footer gives ${String(metadata.num_rows)} rows`;
  let rows = 0;
  for (const [g, group] of metadata.row_groups.entries()) {
    const groupRows = count(group.num_rows);
    if (groupRows === null) return `row group ${g + 1} has ${String(group.num_rows)} rows`;
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
      if (values === null) return `column "${name}" of ${where} has ${String(meta.num_values)} values`;
      const start = count(meta.dictionary_page_offset || meta.data_page_offset);
      const size = count(meta.total_compressed_size);
      if (start === null || size === null || start < 4 || start + size > footerStart) {
        return `column "${name}" of ${where} lies at bytes ${String(meta.dictionary_page_offset || meta.data_page_offset)}+${String(meta.total_compressed_size)}, outside the data (4 to ${footerStart})`;
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
export function checkPages(bytes: ArrayBuffer, meta: ColumnMetaData): string | null {
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
      return `${name}: page ${pages} claims ${String(header.compressed_page_size)} bytes, past the end of its chunk`;
    }
    if (uncompressed === null || uncompressed > MAX_PAGE_BYTES)
      return `${name}: page ${pages} claims ${String(header.uncompressed_page_size)} bytes uncompressed`;
    const data = header.data_page_header ?? header.data_page_header_v2;
    if (data) {
      const n = count(data.num_values);
      if (n === null) return `${name}: page ${pages} has ${String(data.num_values)} values`;
      values += n;
    }
    if (header.data_page_header_v2) {
      const v2 = header.data_page_header_v2;
      const levels = [v2.definition_levels_byte_length, v2.repetition_levels_byte_length].map(count);
      if (levels.includes(null) || levels[0]! + levels[1]! > compressed || count(v2.num_nulls) === null || v2.num_nulls > v2.num_values) {
        return `${name}: page ${pages} has inconsistent level sizes or null count`;
      }
    }
    reader.offset += compressed;
  }
  if (values !== Number(meta.num_values)) return `${name}: its pages hold ${values} values but the footer says ${Number(meta.num_values)}`;
  return null;
}
