import * as tf from '@tensorflow/tfjs';
import type { BackendInfo, ClientData } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';

/** What end-to-end tests read from the page (window.__flClient). */
export interface FlClientHook {
  snapshot(): ClientSnapshot | null;
  /** tf.memory().numTensors now: must stay flat across rounds. */
  numTensors(): number;
  /** tf.memory().numTensors taken as each round ended, oldest first. */
  roundTensors(): number[];
  backend(): BackendInfo | null;
  data(): ClientData | null;
}

declare global {
  interface Window {
    __flClient?: FlClientHook;
  }
}

export function exposeDebugHook(source: Omit<FlClientHook, 'numTensors'>): void {
  window.__flClient = { ...source, numTensors: () => tf.memory().numTensors };
}
