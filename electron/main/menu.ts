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
 * The application menu. Only items that work: session open/save/export arrive with recorded sessions
 * (issue 7); until then File offers what exists, snapshots.
 */
export function menuTemplate(
  actions: MenuActions,
  options: { devTools: boolean },
): MenuItemConstructorOptions[] {
  const view = (
    label: string,
    accelerator: string,
    target: 'processes' | 'topology' | 'memory',
  ): MenuItemConstructorOptions => ({
    label,
    accelerator,
    click: () => {
      actions.send({ type: 'show-view', view: target });
    },
  });
  return [
    {
      label: 'File',
      submenu: [
        {
          label: 'Open Snapshot…',
          accelerator: 'CmdOrCtrl+O',
          click: () => {
            actions.openSnapshot();
          },
        },
        {
          label: 'Export Snapshot as JSON…',
          accelerator: 'CmdOrCtrl+E',
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
          accelerator: 'CmdOrCtrl+R',
          click: () => {
            actions.reconnect();
          },
        },
      ],
    },
    {
      label: 'View',
      submenu: [
        view('Processes', 'CmdOrCtrl+1', 'processes'),
        view('Topology', 'CmdOrCtrl+2', 'topology'),
        view('Memory', 'CmdOrCtrl+3', 'memory'),
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
  ];
}
