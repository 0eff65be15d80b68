import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Import boundaries (ARCHITECTURE.md): src-shared imports nothing of the app; src-main/core never imports electron or
// a host (cli, server); src-renderer imports only src-shared (and its own files).
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const noElectron = { group: ['electron', '**/electron/**'], message: 'Only src-main/electron/ may import electron: services must run in plain Node.' };
const noRenderer = { group: ['**/src-renderer/**'], message: 'The main side never imports the renderer.' };

export default tseslint.config(
  { ignores: ['node_modules', 'out', 'dist', 'test-results', '.cache'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: restrict([
      { group: ['**/src-main/**', '**/src-renderer/**', 'electron', 'node:*', 'better-sqlite3', 'node-llama-cpp'], message: 'src-shared is the contract both sides use: it imports nothing of the app and no Node/Electron module.' },
    ]),
  },
  {
    files: ['src-main/server/**/*.ts', 'src-main/cli/**/*.ts'],
    rules: restrict([noElectron, noRenderer]),
  },
  {
    // (a second no-restricted-imports entry for the same files would replace the one above, not add to it)
    files: ['src-main/core/**/*.ts'],
    rules: restrict([
      noElectron,
      noRenderer,
      { group: ['**/cli/**', '**/server/**'], message: 'src-main/core serves the hosts and never imports one (src-main/cli, src-main/server).' },
    ]),
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...restrict([
        { group: ['**/src-main/**', 'electron', 'node:*', 'better-sqlite3', 'node-llama-cpp'], message: 'The renderer talks to the main side only through the contract client (src-shared).' },
      ]),
    },
  },
);
