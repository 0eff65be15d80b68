// A teacher fleet on the command line: `--teacher URL#model[@N]` repeated (two or more servers of the same model),
// each endpoint's concurrency N from its `@N`, else --teacher-concurrency, else 8.
import { DEFAULT_ENDPOINT_CONCURRENCY } from '../../src-shared/contract/distill.js';
import { intOption, usageError } from './options.js';

export interface EndpointArg {
  baseUrl: string;
  model: string;
  concurrency: number;
}

/** The most endpoints a fleet has (the contract's limit). */
const MAX_ENDPOINTS = 16;

/** `http(s)://host:port/v1#model[@N]` (the model percent-encoded if it holds a #); `modelName` stands in for a missing #model. */
export function parseEndpoint(raw: string, flag: string, modelName: string | undefined, concurrency: number): EndpointArg {
  const spec = raw.trim();
  const bad = (why: string) => usageError('badTeacher', `${flag} ${spec}: ${why}`);
  if (!/^https?:\/\//i.test(spec)) throw bad('a fleet is made of servers: give each as http(s)://host:port/v1#model');
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw bad('not a valid URL');
  }
  let hash: string;
  try {
    hash = decodeURIComponent(url.hash.slice(1)).trim();
  } catch {
    throw bad('the model name after # is not valid percent-encoding');
  }
  const at = /^(.*?)@(\d+)$/.exec(hash);
  const model = (at ? at[1]! : hash).trim() || modelName?.trim() || '';
  if (!model) throw bad("name the server's model after #, e.g. http://10.0.0.5:8000/v1#Qwen/Qwen2.5-72B-Instruct");
  url.hash = '';
  const n = at ? intOption(at[2]!, `${flag} ${spec}: the concurrency after @`) : concurrency;
  if (n > 64) throw bad(`an endpoint takes at most 64 requests at once, not ${n}`);
  return { baseUrl: url.toString(), model, concurrency: n };
}

/** Two or more `--teacher` servers as a fleet's endpoints; the same key options apply to each. */
export function parseFleet<K extends object>(
  raws: string[],
  flag: string,
  o: { modelName?: string | undefined; teacherConcurrency?: string | undefined },
  key: K,
): { endpoints: (EndpointArg & K)[] } {
  if (raws.length > MAX_ENDPOINTS) throw usageError('badTeacher', `${flag}: a fleet has at most ${MAX_ENDPOINTS} endpoints, not ${raws.length}`);
  const concurrency = o.teacherConcurrency ? intOption(o.teacherConcurrency, '--teacher-concurrency') : DEFAULT_ENDPOINT_CONCURRENCY;
  const endpoints = raws.map((r) => ({ ...parseEndpoint(r, flag, o.modelName, concurrency), ...key }));
  const seen = new Set<string>();
  for (const e of endpoints) {
    const id = `${e.baseUrl.replace(/\/+$/, '')}#${e.model}`;
    if (seen.has(id)) throw usageError('badTeacher', `${flag} ${id} is given twice`);
    seen.add(id);
  }
  return { endpoints };
}
