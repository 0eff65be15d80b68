export const m010_distill_tool_calls = {
  name: '010_distill_tool_calls',
  sql: /* sql */ `
-- The tools a teacher's answer calls (issue 10), as a JSON list in OpenAI's form ({id?, type: 'function', function:
-- {name, arguments}}); NULL when it calls none. The answer column keeps the text form (content, then name(arguments)
-- lines) for display, filters and the judge; the output dataset gets the calls as the assistant message's tool_calls.
ALTER TABLE distill_answers ADD COLUMN tool_calls TEXT;
`,
};
