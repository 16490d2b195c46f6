import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AgentClient, webSocketTransport } from '../../electron/contract/client.js';
import type { DesktopApi } from '../../electron/contract/desktop.js';
import { DESKTOP_API_GLOBAL } from '../../electron/contract/desktop.js';
import type { AgentApi } from './api/agentApi.js';
import { BrowserAgentApi } from './api/browserApi.js';
import { ElectronAgentApi } from './api/electronApi.js';
import { planStartup } from './api/startup.js';
import { unusableApi } from './api/unusableApi.js';
import { App } from './components/App.js';
import { AppContext } from './components/hooks.js';
import type { Theme } from './logic/palette.js';
import { Controller } from './state/controller.js';
import { initialState } from './state/state.js';
import { createStore } from './state/store.js';
import './styles/app.css';

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem('tierscope.theme');
    if (saved === 'dark' || saved === 'light') return saved;
  } catch {
    // No storage: fall through to the system preference.
  }
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

const desktop = (window as unknown as Partial<Record<string, DesktopApi>>)[DESKTOP_API_GLOBAL];
const plan = planStartup({
  hasDesktopApi: desktop !== undefined,
  search: location.search,
  protocol: location.protocol,
  host: location.host,
});

let api: AgentApi;
switch (plan.mode) {
  case 'electron':
    // planStartup only says 'electron' when the preload defined the global.
    api = new ElectronAgentApi(desktop as DesktopApi);
    break;
  case 'browser': {
    const url = plan.agentUrl;
    api = new BrowserAgentApi(async () => new AgentClient(await webSocketTransport(url)));
    break;
  }
  case 'unusable':
    api = unusableApi(plan.message);
    break;
}

const theme = initialTheme();
document.documentElement.dataset['theme'] = theme;
const store = createStore(initialState(api.mode, theme));
const controller = new Controller(store, api);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <AppContext.Provider value={{ store, controller }}>
      <App />
    </AppContext.Provider>
  </StrictMode>,
);
// `tierscope ui --session FILE`: opened right after the agent's handshake.
void controller.start(
  plan.mode === 'unusable' ? null : plan.pid,
  plan.mode === 'unusable' ? null : plan.session,
);
