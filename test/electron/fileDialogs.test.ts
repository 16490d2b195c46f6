// The session file dialogs of the main process, with electron's dialog module faked: where they open,
// what they return when cancelled, and that the folder chosen last is where the next one opens.
import { describe, expect, it } from 'vitest';
import type { BrowserWindow, OpenDialogOptions, SaveDialogOptions } from 'electron';
import {
  autosaveDirectory,
  FileDialogs,
  SESSION_FILE_FILTERS,
  type DialogModule,
} from '../../electron/main/fileDialogs.js';

// Only passed through to the fake dialog: any object stands for the window.
const window = Object.create(null) as BrowserWindow;

function fakeDialog(answers: { open?: string[]; save?: string[] }): DialogModule & {
  opened: OpenDialogOptions[];
  saved: SaveDialogOptions[];
} {
  const open = [...(answers.open ?? [])];
  const save = [...(answers.save ?? [])];
  const d = {
    opened: [] as OpenDialogOptions[],
    saved: [] as SaveDialogOptions[],
    showOpenDialog: (_w: BrowserWindow, options: OpenDialogOptions) => {
      d.opened.push(options);
      const file = open.shift() ?? '';
      return Promise.resolve({ canceled: file === '', filePaths: file === '' ? [] : [file] });
    },
    showSaveDialog: (_w: BrowserWindow, options: SaveDialogOptions) => {
      d.saved.push(options);
      const file = save.shift() ?? '';
      return Promise.resolve({ canceled: file === '', filePath: file });
    },
  };
  return d;
}

describe('file dialogs', () => {
  it('opens sessions from the autosave folder first, then from the folder last used', async () => {
    const d = fakeDialog({ open: ['/data/runs/a.tierscope', ''] });
    const dialogs = new FileDialogs(
      d,
      () => window,
      () => Promise.resolve('/home/u/.local/share/tierscope/sessions'),
      () => '/home/u/Documents',
    );
    expect(await dialogs.openSession()).toBe('/data/runs/a.tierscope');
    expect(await dialogs.openSession()).toBeNull();
    expect(d.opened.map((o) => o.defaultPath)).toEqual([
      '/home/u/.local/share/tierscope/sessions',
      '/data/runs',
    ]);
    expect(d.opened[0]).toMatchObject({ filters: SESSION_FILE_FILTERS, properties: ['openFile'] });
  });

  it('proposes the name in the last folder, without a second overwrite prompt', async () => {
    const d = fakeDialog({ save: ['/tmp/out/x.csv', '', '/tmp/out/y.json'] });
    const dialogs = new FileDialogs(
      d,
      () => window,
      () => Promise.resolve('/s'),
      () => '/home/u/Documents',
    );
    const filters = [{ name: 'CSV', extensions: ['csv'] }];
    expect(await dialogs.save({ title: 'Export', defaultName: 'x.csv', filters })).toBe('/tmp/out/x.csv');
    expect(await dialogs.save({ title: 'Export', defaultName: 'y.csv', filters })).toBeNull();
    expect(await dialogs.save({ title: 'Export', defaultName: 'y.json', filters })).toBe('/tmp/out/y.json');
    expect(d.saved.map((o) => o.defaultPath)).toEqual([
      '/home/u/Documents/x.csv',
      '/tmp/out/y.csv',
      '/tmp/out/y.json',
    ]);
    expect(d.saved[0]?.properties).not.toContain('showOverwriteConfirmation');
  });

  it('shows nothing without a window', async () => {
    const d = fakeDialog({ open: ['/x'], save: ['/y'] });
    const dialogs = new FileDialogs(
      d,
      () => null,
      () => Promise.resolve('/s'),
      () => '/d',
    );
    expect(await dialogs.openSession()).toBeNull();
    expect(await dialogs.save({ title: 't', defaultName: 'n', filters: SESSION_FILE_FILTERS })).toBeNull();
    expect(d.opened).toEqual([]);
  });

  it('finds the autosave folder as the agent does (XDG_DATA_HOME when absolute)', () => {
    expect(autosaveDirectory({}, '/home/u')).toBe('/home/u/.local/share/tierscope/sessions');
    expect(autosaveDirectory({ XDG_DATA_HOME: '/xdg' }, '/home/u')).toBe('/xdg/tierscope/sessions');
    expect(autosaveDirectory({ XDG_DATA_HOME: 'relative' }, '/home/u')).toBe(
      '/home/u/.local/share/tierscope/sessions',
    );
  });
});
