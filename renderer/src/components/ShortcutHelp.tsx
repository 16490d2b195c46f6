import type { ReactNode } from 'react';
import { OTHER_SHORTCUTS, SHORTCUTS } from '../logic/shortcuts.js';
import { Dialog } from './Dialogs.js';

/** The keyboard shortcuts, from the same map the key handler and the desktop menu use. */
export function ShortcutHelp({ onClose }: { onClose: () => void }): ReactNode {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="plain shortcuts" aria-label="Keyboard shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.action}>
              <th scope="row">
                <kbd>{s.label}</kbd>
              </th>
              <td>{s.description}</td>
            </tr>
          ))}
          {OTHER_SHORTCUTS.map((s) => (
            <tr key={s.label}>
              <th scope="row">
                <kbd>{s.label}</kbd>
              </th>
              <td>{s.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="faint hint">Single keys do nothing while you type in a text field.</p>
      <div className="actions">
        <button className="btn primary" autoFocus onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
