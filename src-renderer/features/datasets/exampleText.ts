import { messageText, type ExampleRow } from '../../../src-shared/domain/datasets.js';

/** An example as text, one `role: text` line per message; tool calls as name(arguments): an edited call shows in a diff. */
export const exampleText = (r: ExampleRow | null) => (r ? r.messages.map((m) => `${m.role}: ${messageText(m)}`).join('\n') : '');

/** The dataset page's address. */
export const datasetHref = (name: string) => `#/datasets/${encodeURIComponent(name)}`;
