import type { ExamplesFilter } from '../../../src-shared/domain/datasets.js';

/**
 * A user's search words as an FTS5 query: every token must appear. Split like the index's unicode61 tokenizer splits
 * text (letters, digits and marks are token characters), so `jane.doe` is two tokens, not a phrase (the index keeps
 * no positions); each token quoted, so no FTS syntax can break the query. Null when nothing searchable remains.
 */
export function ftsQuery(search: string): string | null {
  const tokens = search.split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
  return tokens.length ? tokens.map((w) => `"${w}"`).join(' ') : null;
}

/**
 * The SQL of "the examples of version @v that match a filter", aliased `ve` (version_examples) and `e` (examples).
 * With a search, the full-text index drives the query (`f`, in example-id order, which is import order): a frequent
 * word stops as soon as a page is full, a rare one never scans the version. Without one, the version is walked in
 * position order.
 */
export interface FilterSql {
  /** `FROM … WHERE …` (no ORDER BY). */
  from: string;
  /** The ORDER BY that the driving loop gives for free. */
  order: string;
  /**
   * The same rows from version_examples alone, when the filter needs nothing else (then a deep OFFSET skips index
   * entries only, not example lookups); null otherwise.
   */
  rowsOnly: string | null;
  params: Record<string, string | number>;
  searching: boolean;
}

export function filterSql(versionId: number, filter: ExamplesFilter): FilterSql {
  const params: Record<string, string | number> = { v: versionId };
  const where = ['ve.version_id = @v', 've.deleted_op IS NULL'];
  let joins = '';
  if (filter.hasReference !== undefined) where.push(filter.hasReference ? 'e.reference IS NOT NULL' : 'e.reference IS NULL');
  if (filter.split !== undefined) {
    if (filter.split === 'none') where.push('ve.split IS NULL');
    else {
      where.push('ve.split = @split');
      params.split = filter.split;
    }
  }
  if (filter.tag !== undefined) {
    where.push(`instr(ve.tags, '|' || @tag || '|') > 0`);
    params.tag = filter.tag;
  }
  if (filter.source !== undefined) {
    where.push('ve.position >= @sourceFrom AND ve.position < @sourceTo');
    params.sourceFrom = filter.source * 1_000_000_000;
    params.sourceTo = (filter.source + 1) * 1_000_000_000;
  }
  if (filter.flagged !== undefined) where.push(filter.flagged ? `ve.flags <> ''` : `ve.flags = ''`);
  if (filter.flag !== undefined) {
    where.push(`instr(ve.flags, '|' || @flag || '|') > 0`);
    params.flag = filter.flag;
  }
  if (filter.cluster !== undefined) {
    where.push('EXISTS (SELECT 1 FROM dup_clusters d WHERE d.version_id = @v AND d.position = ve.position AND d.cluster = @cluster)');
    params.cluster = filter.cluster;
  } else if (filter.duplicates !== undefined) {
    where.push(`${filter.duplicates ? '' : 'NOT '}EXISTS (SELECT 1 FROM dup_clusters d WHERE d.version_id = @v AND d.position = ve.position)`);
  }
  if (filter.tokenizerModel !== undefined && (filter.minTokens !== undefined || filter.maxTokens !== undefined)) {
    joins += ' JOIN token_counts t ON t.tokenizer = @tokenizer AND t.example_id = ve.example_id';
    params.tokenizer = String(filter.tokenizerModel);
    if (filter.minTokens !== undefined) {
      where.push('t.tokens >= @minTokens');
      params.minTokens = filter.minTokens;
    }
    if (filter.maxTokens !== undefined) {
      where.push('t.tokens <= @maxTokens');
      params.maxTokens = filter.maxTokens;
    }
  }
  const match = filter.search ? ftsQuery(filter.search) : null;
  if (match) {
    params.match = match;
    return {
      from: `FROM examples_fts f CROSS JOIN version_examples ve ON ve.example_id = f.rowid CROSS JOIN examples e ON e.id = ve.example_id${joins}
             WHERE examples_fts MATCH @match AND ${where.join(' AND ')}`,
      order: 'ORDER BY f.rowid',
      rowsOnly: null,
      params,
      searching: true,
    };
  }
  return {
    from: `FROM version_examples ve JOIN examples e ON e.id = ve.example_id${joins} WHERE ${where.join(' AND ')}`,
    order: 'ORDER BY ve.position',
    rowsOnly: joins === '' && filter.hasReference === undefined ? `FROM version_examples ve WHERE ${where.join(' AND ')}` : null,
    params,
    searching: false,
  };
}

/** True when the filter narrows nothing. */
export function isEmptyFilter(filter: ExamplesFilter): boolean {
  return Object.entries(filter).every(([k, v]) => v === undefined || (k === 'search' && ftsQuery(String(v)) === null) || k === 'tokenizerModel');
}
