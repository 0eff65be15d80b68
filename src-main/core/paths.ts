import os from 'node:os';
import path from 'node:path';

/**
 * Where Distillery keeps its data when no --data-dir is given: the same folder Electron's `app.getPath('userData')`
 * gives for an app named "Distillery", so the desktop app and `distillery serve` share one library by default.
 */
export function defaultDataDir(): string {
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Distillery');
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Distillery');
    default:
      return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'Distillery');
  }
}

export const DATABASE_FILE = 'distillery.db';
