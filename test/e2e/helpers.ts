// Shared pieces of the e2e suite: Chromium through playwright-core, `tierscope ui`, workloads, screenshots.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env['TIERSCOPE_CHROMIUM'] ?? '/usr/bin/chromium';
export const MEMHOG = path.join(REPO, '.lab-out/bin/memhog');
/** Every run's screenshots; TIERSCOPE_UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/. */
export const SHOTS = path.join(REPO, '.test-results/e2e-screenshots');

export interface Proc {
  proc: ChildProcess;
  pid: number;
  /** stdout lines so far. */
  lines: string[];
  /** stderr, for failure messages. */
  stderr: string[];
  /** Resolves with the first stdout line matching `re` (fails if the process exits first or after `ms`). */
  line(re: RegExp, ms?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once reaped. */
  stop(): Promise<void>;
}

export function start(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Proc {
  const proc = spawn(command, args, {
    cwd: options.cwd ?? REPO,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${command} did not start`);
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const l = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.push(l);
      for (const w of waiters.filter((x) => x.re.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 200) stderr.shift();
  });
  const p: Proc = {
    proc,
    pid: proc.pid,
    lines,
    stderr,
    line(re, ms = 60_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `${command}: no line matching ${String(re)} within ${ms} ms; stderr: ${stderr.join('').slice(-2000)}`,
            ),
          );
        }, ms);
        proc.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(
            new Error(
              `${command} exited (${String(code ?? signal)}) before printing ${String(re)}; stderr: ${stderr.join('').slice(-2000)}`,
            ),
          );
        });
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  return p;
}

/** memhog (test/workloads): a known 2 MiB-aligned anonymous region; READY <base> <bytes>. */
export async function startMemhog(args: string[]): Promise<{ proc: Proc; base: string; sizeBytes: number }> {
  const proc = start(MEMHOG, args);
  const ready = await proc.line(/^READY /);
  const [, base = '', size = '0'] = ready.split(' ');
  return { proc, base, sizeBytes: Number(size) };
}

/**
 * `tierscope ui`; its first stdout line is the URL with the token. `env` adds variables (XDG_DATA_HOME: where
 * recordings started from the UI are autosaved).
 */
export async function startUi(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ proc: Proc; url: string }> {
  const proc = start(
    process.execPath,
    [path.join(REPO, 'scripts/tierscope.mjs'), 'ui', '--no-open', ...args],
    {
      env: { ...process.env, ...env },
    },
  );
  const url = await proc.line(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  return { proc, url };
}

export interface Browsing {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (a CSP violation or an exception is a bug). */
  errors: string[];
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a fresh profile; dark scheme, 1440×900 like a laptop screen. */
export async function openBrowser(): Promise<Browsing> {
  const profile = await mkdtemp(path.join(tmpdir(), 'tierscope-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1440, height: 900 },
    colorScheme: 'dark',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  // Let charts finish their layout pass (ResizeObserver → re-render) before the picture.
  // A string: this file is typechecked without DOM types, the expression runs in the page.
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  await page.screenshot({ path: file });
  if (process.env['TIERSCOPE_UPDATE_SCREENSHOTS'] === '1') {
    const docs = path.join(REPO, 'docs/screenshots');
    await mkdir(docs, { recursive: true });
    await copyFile(file, path.join(docs, `${name}.png`));
  }
  return file;
}

/** "16.0 MiB" → bytes (NaN when the text holds no size). */
export function parseBytes(text: string | null): number {
  const m = /([\d.,]+)\s*(B|KiB|MiB|GiB)\b/.exec(text ?? '');
  if (!m) return Number.NaN;
  const unit = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B' | 'KiB' | 'MiB' | 'GiB'];
  return Number((m[1] ?? '').replace(/,/g, '')) * unit;
}

/** "4,096" → 4096. */
export function parseCount(text: string | null): number {
  return Number((text ?? '').replace(/[,\s]/g, ''));
}
