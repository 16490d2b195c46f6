/**
 * Which agent the renderer talks to, decided once at startup from what the page was given: the Electron
 * preload's `window.tierscope`, or the `token` (and optional `pid`) that `tierscope ui` put in the URL.
 * `session`: a session file to open at start (`&session=PATH`, a path on the agent's machine).
 */
export type StartupPlan =
  | { mode: 'electron'; pid: number | null; session: string | null }
  | { mode: 'browser'; agentUrl: string; pid: number | null; session: string | null }
  | { mode: 'unusable'; message: string };

export interface StartupInput {
  hasDesktopApi: boolean;
  /** location.search, e.g. "?token=abc&pid=42". */
  search: string;
  /** location.protocol and location.host of the page. */
  protocol: string;
  host: string;
}

const TOKEN = /^[A-Za-z0-9_-]{16,256}$/;

export function planStartup(input: StartupInput): StartupPlan {
  const params = new URLSearchParams(input.search);
  const pidText = params.get('pid');
  const pid = pidText !== null && /^[1-9]\d{0,9}$/.test(pidText) ? Number(pidText) : null;
  const sessionText = params.get('session');
  const session = sessionText !== null && sessionText.trim() !== '' ? sessionText : null;
  if (input.hasDesktopApi) return { mode: 'electron', pid, session };

  const token = params.get('token');
  if (token === null || token === '') {
    return {
      mode: 'unusable',
      message:
        'This page needs the access token that `tierscope ui` prints. Run `tierscope ui` (add --pid N to ' +
        'open a process directly) and open the exact URL it prints, including ?token=…',
    };
  }
  if (!TOKEN.test(token)) {
    return {
      mode: 'unusable',
      message:
        'The token in this URL is malformed (it was probably cut off when copying). Open the full URL ' +
        'that `tierscope ui` printed.',
    };
  }
  if (input.protocol !== 'http:' && input.protocol !== 'https:') {
    return {
      mode: 'unusable',
      message: `Browser mode needs the page served by \`tierscope ui\` (http://127.0.0.1:…), not ${input.protocol}.`,
    };
  }
  const wsProtocol = input.protocol === 'https:' ? 'wss:' : 'ws:';
  return {
    mode: 'browser',
    agentUrl: `${wsProtocol}//${input.host}/agent?token=${encodeURIComponent(token)}`,
    pid,
    session,
  };
}
