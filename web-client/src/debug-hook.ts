import type { BackendInfo, ClientData } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { expandMask } from '@fl/shared/secagg/prg';

/** What end-to-end tests read from the page (window.__flClient); training state is the worker's, mirrored here. */
export interface FlClientHook {
  snapshot(): ClientSnapshot | null;
  /** tf.memory().numTensors in the training worker now: must stay flat across rounds. */
  numTensors(): Promise<number>;
  /** tf.memory().numTensors taken in the worker as each round ended, oldest first. */
  roundTensors(): number[];
  backend(): BackendInfo | null;
  data(): ClientData | null;
  /** The page's own secure-aggregation PRG (WebCrypto AES-CTR): the same seed must give Node's words. */
  expandMask(seed: number[], length: number): Promise<number[]>;
}

declare global {
  interface Window {
    __flClient?: FlClientHook;
  }
}

export function exposeDebugHook(source: Omit<FlClientHook, 'expandMask'>): void {
  window.__flClient = {
    ...source,
    expandMask: async (seed, length) => Array.from(await expandMask(Uint8Array.from(seed), length)),
  };
}
