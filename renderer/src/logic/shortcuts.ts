// The session and migration keyboard shortcuts: one map for the key handler, the help overlay and the
// desktop menu's accelerators (electron/main/menu.ts registers the Ctrl ones; the page must then leave
// them alone, or each would fire twice).

export type ShortcutAction =
  'open-session' | 'save-session-as' | 'export-session' | 'toggle-recording' | 'migrate' | 'show-shortcuts';

export interface Shortcut {
  action: ShortcutAction;
  /** As shown to the user. */
  label: string;
  description: string;
  /** KeyboardEvent.key, compared case-insensitively for letters. */
  key: string;
  ctrl: boolean;
  /** The desktop menu registers this accelerator: in the desktop app the page does not handle it. */
  menuAccelerator: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  {
    action: 'open-session',
    label: 'Ctrl+O',
    description: 'Open a recorded session',
    key: 'o',
    ctrl: true,
    menuAccelerator: true,
  },
  {
    action: 'save-session-as',
    label: 'Ctrl+S',
    description: 'Save the open session as…',
    key: 's',
    ctrl: true,
    menuAccelerator: true,
  },
  {
    action: 'export-session',
    label: 'Ctrl+E',
    description: 'Export the open session (JSON, CSV, Perfetto)',
    key: 'e',
    ctrl: true,
    menuAccelerator: true,
  },
  {
    action: 'toggle-recording',
    label: 'Ctrl+R',
    description: 'Record the open process / stop recording',
    key: 'r',
    ctrl: true,
    menuAccelerator: true,
  },
  {
    action: 'migrate',
    label: 'M',
    description: 'Migrate the selection (opens the migration panel)',
    key: 'm',
    ctrl: false,
    menuAccelerator: false,
  },
  {
    action: 'show-shortcuts',
    label: '?',
    description: 'Show these shortcuts',
    key: '?',
    ctrl: false,
    menuAccelerator: false,
  },
];

/** Shortcuts of other parts of the UI, listed in the help only (their own views handle them). */
export const OTHER_SHORTCUTS: readonly { label: string; description: string }[] = [
  { label: 'Ctrl+1 … 5', description: 'Processes, Topology, Memory, Session, Experiments' },
  { label: '/', description: 'Search in the current view' },
  { label: '↑ ↓ PgUp PgDn Home End', description: 'Move in tables' },
  { label: 'Enter', description: 'Open the process or item under the cursor' },
  { label: '+ −', description: 'Session: zoom in / out (the mouse wheel too)' },
  { label: '← →', description: 'Session: pan (or drag)' },
  { label: '0', description: 'Session: the whole session' },
  { label: 'Escape', description: 'Close a dialog; in the Session view, clear the selection' },
];

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  /** Focus is in a text input, textarea, select or contenteditable: bare keys are typing there. */
  inTextField: boolean;
  mode: 'browser' | 'electron';
}

/** The action a key press asks for, or null when it is not one of these shortcuts (or not ours to handle). */
export function matchShortcut(input: KeyInput): ShortcutAction | null {
  if (input.altKey || input.metaKey) return null;
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  for (const s of SHORTCUTS) {
    if (s.key !== key) continue;
    if (s.ctrl) {
      // Ctrl+Shift+O is the desktop's Open Snapshot, not Open Session.
      if (!input.ctrlKey || input.shiftKey) continue;
      if (s.menuAccelerator && input.mode === 'electron') return null;
      return s.action;
    }
    // '?' needs Shift on most layouts; a bare letter must be bare.
    if (input.ctrlKey || input.inTextField) continue;
    if (s.key !== '?' && input.shiftKey) continue;
    return s.action;
  }
  return null;
}
