/** Browser client tabs (/client/) and what the tests read from them. */
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
// The hook's type; importing it also declares window.__flClient.
import type { FlClientHook } from '../../web-client/src/debug-hook';
import type { TrafficLog } from './traffic';
import { withTimeout } from './timeouts';

export interface ClientTab {
  name: string;
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions in the page. */
  errors: string[];
  close(): Promise<void>;
}

export interface OpenTabOptions {
  backend?: 'webgpu' | 'webgl' | 'wasm' | 'cpu';
  /** For a browser the spec launched itself, which has no baseURL from the config. */
  baseURL?: string;
  /** Collects the URL of every request the tab's context makes (its workers' too), from the first one on. */
  requests?: string[];
  traffic?: TrafficLog;
  /** Records the page's long tasks and timer delays from its first script on (see mainThreadReport). */
  mainThreadProbe?: boolean;
}

/** What the page's main thread went through since the probe was last reset, by the page's own clock. */
export interface MainThreadReport {
  /** Long tasks (PerformanceObserver 'longtask': 50 ms or more): how many, the longest, their sum, in ms. */
  count: number;
  longest: number;
  total: number;
  /** The most a 50 ms interval timer fired late. */
  timerDelay: number;
}

/** One state of the tab's training view, as its train-progress data attributes show it. */
export interface ViewState {
  phase: string;
  round: string;
  batch: string;
  /** 'scoring' while the tab scores a run's final model, 'scored' once its score is shown, '' before. */
  finalScore: string;
}

declare global {
  interface Window {
    __viewStates?: ViewState[];
    __mainThread?: { reset(): void; report(): MainThreadReport };
  }
}

/** Installed before the page's scripts: long tasks from the observer's buffer on, and a 50 ms heartbeat's lateness. */
function probeMainThread(): void {
  let tasks: number[] = [];
  let timerDelay = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) tasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: true });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    timerDelay = Math.max(timerDelay, now - last - 50);
    last = now;
  }, 50);
  window.__mainThread = {
    reset() {
      tasks = [];
      timerDelay = 0;
    },
    report: () => ({
      count: tasks.length,
      longest: Math.round(Math.max(0, ...tasks)),
      total: Math.round(tasks.reduce((a, b) => a + b, 0)),
      timerDelay: Math.round(timerDelay),
    }),
  };
}

/**
 * Records every state train-progress goes through, from the page's first paint on, so a test can
 * check what a person would have seen between two polls.
 */
function recordViewStates(): void {
  const states: ViewState[] = (window.__viewStates = []);
  document.addEventListener('DOMContentLoaded', () => {
    const box = document.querySelector<HTMLElement>('[data-testid="train-progress"]');
    if (!box) return;
    new MutationObserver(() => {
      const { phase = '', round = '', batch = '', finalScore = '' } = box.dataset;
      const last = states.at(-1);
      if (!last || last.phase !== phase || last.round !== round || last.batch !== batch || last.finalScore !== finalScore) {
        states.push({ phase, round, batch, finalScore });
      }
    }).observe(box, { attributes: true });
  });
}

/** Opens /client/ in its own browser context and waits until the tab has joined the hub. */
export async function openClientTab(browser: Browser, name: string, options: OpenTabOptions = {}): Promise<ClientTab> {
  const context = await browser.newContext(options.baseURL ? { baseURL: options.baseURL } : {});
  const requests = options.requests;
  if (requests) context.on('request', (request) => void requests.push(request.url()));
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  options.traffic?.attach(page, name);
  await page.addInitScript(recordViewStates);
  if (options.mainThreadProbe) await page.addInitScript(probeMainThread);
  const query = new URLSearchParams({ name, ...(options.backend ? { backend: options.backend } : {}) });
  await page.goto(`/client/?${query}`);
  await expect(page.getByTestId('client-status')).toHaveAttribute('data-state', 'connected', { timeout: 60_000 });
  return { name, page, context, errors, close: () => context.close() };
}

const HOOK_TIMEOUT = 10_000;

export function snapshot(page: Page): Promise<ReturnType<FlClientHook['snapshot']>> {
  return withTimeout(page.evaluate(() => window.__flClient!.snapshot()), HOOK_TIMEOUT, '__flClient.snapshot()');
}

export function roundTensors(page: Page): Promise<number[]> {
  return withTimeout(page.evaluate(() => window.__flClient!.roundTensors()), HOOK_TIMEOUT, '__flClient.roundTensors()');
}

export function numTensors(page: Page): Promise<number> {
  return withTimeout(page.evaluate(() => window.__flClient!.numTensors()), HOOK_TIMEOUT, '__flClient.numTensors()');
}

export function viewStates(page: Page): Promise<ViewState[]> {
  return withTimeout(page.evaluate(() => window.__viewStates ?? []), HOOK_TIMEOUT, 'recorded view states');
}

/** States where the batch counter moved on while the view said the tab was idle. */
export function idleWhileTraining(states: ViewState[]): ViewState[] {
  return states.filter((state, i) => i > 0 && state.phase === 'idle' && state.batch !== '' && state.batch !== states[i - 1]!.batch);
}

export function resetMainThreadProbe(page: Page): Promise<void> {
  return withTimeout(page.evaluate(() => window.__mainThread!.reset()), HOOK_TIMEOUT, 'resetting the main-thread probe');
}

export function mainThreadReport(page: Page): Promise<MainThreadReport> {
  return withTimeout(page.evaluate(() => window.__mainThread!.report()), HOOK_TIMEOUT, 'the main-thread report');
}

export function backendInfo(page: Page): Promise<ReturnType<FlClientHook['backend']>> {
  return withTimeout(page.evaluate(() => window.__flClient!.backend()), HOOK_TIMEOUT, '__flClient.backend()');
}

/**
 * Drops a folder from disk on an element the way a person does: CDP drag events carrying the path,
 * so the page gets real directory entries (a synthetic DataTransfer cannot carry folders).
 */
export async function dropFolder(page: Page, testId: string, folder: string): Promise<void> {
  const target = page.getByTestId(testId);
  await target.scrollIntoViewIfNeeded();
  const box = await target.boundingBox();
  if (!box) throw new Error(`${testId} is not visible`);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const cdp = await page.context().newCDPSession(page);
  try {
    const data = { items: [], files: [folder], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
      await cdp.send('Input.dispatchDragEvent', { type, x, y, data });
    }
  } finally {
    await cdp.detach();
  }
}
