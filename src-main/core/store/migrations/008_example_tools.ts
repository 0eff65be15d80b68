export const m008_example_tools = {
  name: '008_example_tools',
  sql: /* sql */ `
-- The tools a conversation may call (issue 10): a JSON list in OpenAI's form ({type: 'function', function: {name,
-- description, parameters}}), NULL when the record declares none. Tool calls and tool results live in the messages.
ALTER TABLE examples ADD COLUMN tools TEXT;
`,
};
