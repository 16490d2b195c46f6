import path from 'node:path';
import type {
  BrowserWindow,
  OpenDialogOptions,
  OpenDialogReturnValue,
  SaveDialogOptions,
  SaveDialogReturnValue,
} from 'electron';
import type { FileFilter } from '../contract/desktop.js';

/** The part of electron's `dialog` module used here (tests hand in a fake). */
export interface DialogModule {
  showOpenDialog(window: BrowserWindow, options: OpenDialogOptions): Promise<OpenDialogReturnValue>;
  showSaveDialog(window: BrowserWindow, options: SaveDialogOptions): Promise<SaveDialogReturnValue>;
}

export const SESSION_FILE_FILTERS: FileFilter[] = [
  { name: 'Tierscope session', extensions: ['tierscope'] },
  { name: 'All files', extensions: ['*'] },
];

/**
 * Where the local agent autosaves recordings (the agent's default `path: null`): XDG_DATA_HOME, else
 * ~/.local/share, then tierscope/sessions. The open dialog starts there, where new recordings are.
 */
export function autosaveDirectory(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env['XDG_DATA_HOME'];
  const dataHome = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'share');
  return path.join(dataHome, 'tierscope', 'sessions');
}

/**
 * The session open and save dialogs of the main window. They only pick paths: reading and writing is the
 * agent's (openSession, saveSessionAs, exportSession), so the file ends up where the agent runs. The
 * folder last chosen is reused for the next dialog, as users expect within one run.
 */
export class FileDialogs {
  private lastDirectory: string | null = null;

  constructor(
    private readonly dialog: DialogModule,
    private readonly window: () => BrowserWindow | null,
    /** First folder of the open dialog (the autosave folder when it exists). */
    private readonly openDirectory: () => Promise<string>,
    /** First folder of a save dialog (e.g. Documents). */
    private readonly saveDirectory: () => string,
  ) {}

  async openSession(): Promise<string | null> {
    const window = this.window();
    if (!window) return null;
    const picked = await this.dialog.showOpenDialog(window, {
      title: 'Open session',
      defaultPath: this.lastDirectory ?? (await this.openDirectory()),
      filters: SESSION_FILE_FILTERS,
      properties: ['openFile'],
    });
    const file = picked.filePaths[0];
    if (picked.canceled || file === undefined) return null;
    this.lastDirectory = path.dirname(file);
    return file;
  }

  /**
   * No `showOverwriteConfirmation`: the agent refuses to overwrite and the renderer asks once, for every
   * transport alike; a GTK confirmation on top would ask twice.
   */
  async save(request: { title: string; defaultName: string; filters: FileFilter[] }): Promise<string | null> {
    const window = this.window();
    if (!window) return null;
    const saved = await this.dialog.showSaveDialog(window, {
      title: request.title,
      defaultPath: path.join(this.lastDirectory ?? this.saveDirectory(), request.defaultName),
      filters: request.filters,
      properties: ['createDirectory'],
    });
    if (saved.canceled || saved.filePath === '') return null;
    this.lastDirectory = path.dirname(saved.filePath);
    return saved.filePath;
  }
}
