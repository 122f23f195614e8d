import type { BackendName } from '@fl/shared';

export type BackendRequest = BackendName | 'auto';
/** ?threads=N asks for N wasm threads; 'auto' leaves the choice to planWasmThreads. */
export type ThreadsRequest = number | 'auto';
/** Threads a page may ask for; TF.js runs at most 8 and at most half the logical cores. */
const MAX_THREADS = 8;

/** What the page's URL asks for. */
export interface PageParams {
  /** The hub's origin: the one that served the page, or ?hub=<url>. */
  hubUrl: string;
  /** ?join=<token>, for hubs started with JOIN_TOKEN. */
  joinToken: string | undefined;
  /** ?backend=webgpu|webgl|wasm|cpu forces a backend; anything else is auto. */
  backend: BackendRequest;
  /** ?name=<name> names this tab without touching the remembered name (several tabs in one browser). */
  name: string | undefined;
  /** ?threads=1..8: wasm threads (the page must be cross-origin isolated for more than 1). */
  threads: ThreadsRequest;
  /** Set when a parameter was given but not understood, to be shown rather than ignored. */
  warnings: string[];
}

export function readPageParams(location: Pick<Location, 'search' | 'origin' | 'href'>): PageParams {
  const query = new URLSearchParams(location.search);
  const warnings: string[] = [];
  let hubUrl = location.origin;
  const hub = query.get('hub');
  if (hub) {
    try {
      hubUrl = new URL(hub, location.href).origin;
    } catch {
      warnings.push(`?hub=${hub} is not a URL; using ${hubUrl}`);
    }
  }
  const backendParam = query.get('backend');
  let backend: BackendRequest = 'auto';
  if (backendParam === 'webgpu' || backendParam === 'webgl' || backendParam === 'wasm' || backendParam === 'cpu') backend = backendParam;
  else if (backendParam && backendParam !== 'auto') warnings.push(`?backend=${backendParam} is not webgpu, webgl, wasm or cpu; choosing automatically`);
  const name = query.get('name')?.trim().slice(0, 80);
  const threadsParam = query.get('threads');
  let threads: ThreadsRequest = 'auto';
  if (threadsParam && /^\d+$/.test(threadsParam) && Number(threadsParam) >= 1 && Number(threadsParam) <= MAX_THREADS) threads = Number(threadsParam);
  else if (threadsParam && threadsParam !== 'auto') warnings.push(`?threads=${threadsParam} is not a number from 1 to ${MAX_THREADS}; choosing automatically`);
  return { hubUrl, joinToken: query.get('join') || undefined, backend, name: name || undefined, threads, warnings };
}
