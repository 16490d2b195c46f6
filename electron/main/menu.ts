import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../contract/desktop.js';

/** What the menu items do; index.ts wires them to the window, the agent host and the dialogs. */
export interface MenuActions {
  /** Sends a command to the renderer (views, dialogs that live there). */
  send(command: MenuCommand): void;
  openSnapshot(): void;
  elevate(): void;
  useLocalAgent(): void;
  reconnect(): void;
  quit(): void;
}

/**
 * The application menu. Session items send a MenuCommand: the renderer owns the flows (it knows whether a
 * session is open, asks for overwrite confirmation, shows errors in place) and asks main for dialogs
 * through the control channel. Accelerators here are the renderer's shortcut map (logic/shortcuts.ts);
 * the renderer leaves these keys to the menu in the desktop app so each fires once.
 */
export function menuTemplate(
  actions: MenuActions,
  options: { devTools: boolean },
): MenuItemConstructorOptions[] {
  const view = (
    label: string,
    accelerator: string,
    target: Extract<MenuCommand, { type: 'show-view' }>['view'],
  ): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => {
      actions.send({ type: 'show-view', view: target });
    },
  });
  const command = (label: string, accelerator: string, sent: MenuCommand): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => {
      actions.send(sent);
    },
  });
  /**
   * A bare key is shown but not registered: a registered one fires even while the user types in a text
   * field. The renderer handles it instead, outside text fields.
   */
  const pageKey = (label: string, accelerator: string, sent: MenuCommand): MenuItemConstructorOptions => ({
    ...command(label, accelerator, sent),
    registerAccelerator: false,
  });
  return [
    {
      label: 'File',
      submenu: [
        command('Open Session…', 'CmdOrCtrl+O', { type: 'open-session' }),
        command('Save Session As…', 'CmdOrCtrl+S', { type: 'save-session-as' }),
        command('Export Session…', 'CmdOrCtrl+E', { type: 'export-session' }),
        { type: 'separator' },
        {
          label: 'Open Snapshot…',
          accelerator: 'CmdOrCtrl+Shift+O',
          click: () => {
            actions.openSnapshot();
          },
        },
        {
          label: 'Export Snapshot as JSON…',
          accelerator: 'CmdOrCtrl+Shift+E',
          click: () => {
            actions.send({ type: 'export-snapshot' });
          },
        },
        { type: 'separator' },
        {
          label: 'Quit',
          accelerator: 'CmdOrCtrl+Q',
          click: () => {
            actions.quit();
          },
        },
      ],
    },
    {
      label: 'Capture',
      submenu: [
        view('Attach to Process…', 'CmdOrCtrl+P', 'processes'),
        {
          label: 'Launch Command…',
          accelerator: 'CmdOrCtrl+L',
          click: () => {
            actions.send({ type: 'launch' });
          },
        },
        { type: 'separator' },
        {
          label: 'Elevate (pkexec)…',
          click: () => {
            actions.elevate();
          },
        },
        {
          label: 'Connect to Remote (ssh)…',
          click: () => {
            actions.send({ type: 'connect-remote' });
          },
        },
        {
          label: 'Use Local Agent',
          click: () => {
            actions.useLocalAgent();
          },
        },
        { type: 'separator' },
        {
          label: 'Reconnect Agent',
          accelerator: 'CmdOrCtrl+Shift+R',
          click: () => {
            actions.reconnect();
          },
        },
      ],
    },
    {
      label: 'Session',
      submenu: [
        command('Record / Stop', 'CmdOrCtrl+R', { type: 'toggle-recording' }),
        pageKey('Migrate Selection…', 'M', { type: 'migrate' }),
      ],
    },
    {
      label: 'View',
      submenu: [
        view('Processes', 'CmdOrCtrl+1', 'processes'),
        view('Topology', 'CmdOrCtrl+2', 'topology'),
        view('Memory', 'CmdOrCtrl+3', 'memory'),
        view('Session', 'CmdOrCtrl+4', 'session'),
        view('Experiments', 'CmdOrCtrl+5', 'experiments'),
        { type: 'separator' },
        {
          label: 'Toggle Dark/Light Theme',
          click: () => {
            actions.send({ type: 'toggle-theme' });
          },
        },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        ...(options.devTools ? [{ role: 'toggleDevTools' } as const] : []),
      ],
    },
    {
      label: 'Help',
      submenu: [pageKey('Keyboard Shortcuts', 'Shift+/', { type: 'show-shortcuts' })],
    },
  ];
}
