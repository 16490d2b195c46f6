import type { WebContents, WebPreferences } from 'electron';

/**
 * The window's security posture, in one place so the tests can check it:
 * - the renderer is a web page with no Node: context isolation, sandbox, no node integration;
 * - it is loaded from the app's own scheme (app://tierscope/), never from the network;
 * - it may not navigate, open windows, attach webviews or ask for permissions;
 * - IPC is answered only for frames whose URL is the app's own (see isTrustedSender).
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'tierscope';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * Sent as a header with every app:// response (and mirrored by the meta tag of renderer/index.html). No
 * network at all: in the desktop app the agent is reached through IPC, not a socket.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** Whether `url` is a page of the app itself: app://tierscope/… and nothing else. */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '';
}

/** The part of an IPC event the check needs (Electron's IpcMainInvokeEvent has both). */
export interface IpcSenderInfo {
  senderFrame: { url: string; parent: unknown } | null;
}

/**
 * IPC is answered only for the app's own top-level frame. A frame that navigated elsewhere (if that ever
 * got past the navigation lock), a subframe, or a destroyed frame is refused.
 */
export function isTrustedSender(event: IpcSenderInfo): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

type LockableContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** No navigation away from the app, no new windows, no webviews. */
export function lockNavigation(contents: LockableContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
