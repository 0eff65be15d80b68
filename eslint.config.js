import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Import boundaries (ARCHITECTURE.md): src-shared imports nothing of the app; src-main/core never imports electron or
// a host (cli, server, host); the hosts never import one another (what they share lives in src-main/host);
// src-renderer imports only src-shared (and its own files).
// (A second no-restricted-imports entry for the same files replaces the first, not adds to it: one block per folder.)
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const noElectron = { group: ['electron', '**/electron/**'], message: 'Only src-main/electron/ may import electron: services must run in plain Node.' };
const noRenderer = { group: ['**/src-renderer/**'], message: 'The main side never imports the renderer.' };
const noOtherHost = (...hosts) => ({
  group: hosts.map((h) => `**/${h}/**`),
  message: 'A host never imports another host (src-main/electron, src-main/server, src-main/cli): what they share lives in src-main/host.',
});

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
    // Type-aware rules for the TypeScript files (all in tsconfig.json): a promise is awaited, or voided on purpose
    // with its errors handled; never dropped by accident, never passed where a void callback is expected.
    files: ['**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: restrict([
      {
        group: ['**/src-main/**', '**/src-renderer/**', 'electron', 'node:*', 'better-sqlite3', 'node-llama-cpp'],
        message: 'src-shared is the contract both sides use: it imports nothing of the app and no Node/Electron module.',
      },
    ]),
  },
  {
    files: ['src-main/server/**/*.ts'],
    rules: restrict([noElectron, noRenderer, noOtherHost('cli')]),
  },
  {
    // `distillery serve` starts the HTTP host: the CLI may import src-main/server, never electron.
    files: ['src-main/cli/**/*.ts'],
    rules: restrict([noElectron, noRenderer]),
  },
  {
    files: ['src-main/electron/**/*.ts'],
    rules: restrict([noRenderer, noOtherHost('server', 'cli')]),
  },
  {
    files: ['src-main/host/**/*.ts'],
    rules: restrict([
      noElectron,
      noRenderer,
      { group: ['**/cli/**', '**/server/**'], message: 'src-main/host holds what every host shares: it imports none of them.' },
    ]),
  },
  {
    files: ['src-main/core/**/*.ts'],
    rules: restrict([
      noElectron,
      noRenderer,
      {
        group: ['**/cli/**', '**/server/**', '**/host/**'],
        message: 'src-main/core serves the hosts and never imports one (src-main/cli, src-main/server, src-main/host).',
      },
    ]),
  },
  {
    files: ['src-renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...restrict([
        {
          group: ['**/src-main/**', 'electron', 'node:*', 'better-sqlite3', 'node-llama-cpp'],
          message: 'The renderer talks to the main side only through the contract client (src-shared).',
        },
      ]),
    },
  },
);
