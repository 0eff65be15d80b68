import os from 'node:os';
import path from 'node:path';

/**
 * Where Distillery keeps its data when no --data-dir is given: the same folder Electron's `app.getPath('userData')`
 * gives for an app named "Distillery", so the desktop app and `distillery serve` share one library by default. `env` is
 * the environment it reads (XDG_CONFIG_HOME, APPDATA): the process's unless a caller of the CLI gives its own.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Distillery');
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Distillery');
    default:
      return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Distillery');
  }
}

export const DATABASE_FILE = 'distillery.db';
