import { BrowserWindow, type Session } from 'electron';
import { APP_INDEX_URL, lockNavigation, secureWebPreferences } from './security.js';

/** The main window: secure preferences, locked navigation, loaded from app:// only. */
export function createMainWindow(preloadPath: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 560,
    title: 'Tierscope',
    backgroundColor: '#12151b',
    show: false,
    webPreferences: secureWebPreferences(preloadPath),
  });
  lockNavigation(win.webContents);
  win.once('ready-to-show', () => {
    win.show();
  });
  void win.loadURL(APP_INDEX_URL);
  return win;
}

/** No camera, microphone, notifications, geolocation …: a profiler needs none of them. */
export function denyPermissions(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>,
): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => {
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
}
