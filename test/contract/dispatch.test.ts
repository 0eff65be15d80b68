import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '../helpers/workspace.js';
import { contract, OP_NAMES } from '../../src-shared/contract/index.js';
import { APP_VERSION } from '../../src-shared/version.js';
import pkg from '../../package.json' with { type: 'json' };

const ws = makeWorkspace();
afterAll(() => ws.close());

describe('contract boundary', () => {
  it('refuses an unknown operation', async () => {
    expect(await ws.app.call('models.format', {})).toEqual({
      ok: false,
      error: { code: 'unknown_op', message: 'there is no operation named "models.format"' },
    });
  });

  it('refuses wrong types and names the field', async () => {
    const r = await ws.app.call('models.get', { id: 'three' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid_input');
      expect(r.error.field).toBe('id');
      expect(r.error.message).toMatch(/^models\.get: id: /);
    }
  });

  it('refuses unknown fields', async () => {
    const r = await ws.app.call('models.list', { sql: 'DROP TABLE models' });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    const r2 = await ws.app.call('playground.generate', { modelId: 1, mode: 'chat', prompt: 'hi', sampling: { temp: 2 } });
    expect(r2).toMatchObject({ ok: false, error: { code: 'invalid_input', field: 'sampling' } });
  });

  it('refuses out-of-range values and empty strings', async () => {
    expect(await ws.app.call('models.add', { path: '   ' })).toMatchObject({ ok: false, error: { code: 'invalid_input', field: 'path' } });
    expect(await ws.app.call('playground.generate', { modelId: 1, mode: 'chat', prompt: 'x', sampling: { temperature: -1 } })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'sampling.temperature' },
    });
    expect(await ws.app.call('runs.list', { limit: 0 })).toMatchObject({ ok: false, error: { field: 'limit' } });
  });

  it('answers not_found for ids that name nothing', async () => {
    expect(await ws.app.call('runs.get', { id: 999 })).toMatchObject({ ok: false, error: { code: 'not_found', message: 'there is no run 999' } });
    expect(await ws.app.call('models.remove', { id: 5 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('has a handler for every operation, and reports the app version', async () => {
    expect(Object.keys(ws.app.handlers).sort()).toEqual([...OP_NAMES].sort());
    expect(Object.keys(contract).length).toBeGreaterThan(10);
    const info = await ws.client.call('system.info', {});
    expect(info.version).toBe(APP_VERSION);
    expect(APP_VERSION).toBe(pkg.version);
    expect(info.databasePath).toBe(`${ws.dir}/distillery.db`);
  });

  it('stores settings', async () => {
    expect(await ws.client.call('settings.get', {})).toEqual({ inferenceThreads: null });
    expect(await ws.client.call('settings.update', { inferenceThreads: 1 })).toEqual({ inferenceThreads: 1 });
    expect(await ws.client.call('settings.get', {})).toEqual({ inferenceThreads: 1 });
    expect(await ws.app.call('settings.update', { inferenceThreads: 0 })).toMatchObject({ ok: false, error: { field: 'inferenceThreads' } });
  });
});
