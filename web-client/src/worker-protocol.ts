/**
 * The messages between the tab's page and its training worker. The worker holds TF.js, the data's bytes
 * and the socket to the hub; the page holds the DOM, the folder's File objects and sessionStorage.
 */
import type { BackendInfo, ClientData, ErrorBody } from '@fl/shared';
import type { FolderCounts } from '@fl/shared/data/chest-xray-folder';
import type { ClientCredentials, ClientSnapshot } from '@fl/shared/federated-client';
import type { BackendRequest, ThreadsRequest } from './page-params';

export type TaskChoice = 'mnist' | 'chest-xray';

export type MnistState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'ready'; count: number }
  | { status: 'error'; message: string };

/** A loaded chest_xray folder as the page shows it: counts and names, never pixels. */
export interface ChestSummary {
  counts: FolderCounts;
  /** Files the browser listed but would not hand over (symbolic links in some browsers, files moved since). */
  unreadable: string[];
}

/** What the tab holds and trains on, as the worker's data keeps it. */
export interface DataState {
  choice: TaskChoice;
  mnist: MnistState;
  chest: ChestSummary | null;
  /** What is announced to the hub (null: nothing usable yet). */
  describe: ClientData | null;
}

/** How the socket itself is doing, beside the client's own snapshot. */
export interface LinkState {
  /** The last connection error, cleared once connected. */
  error: string | null;
  reconnectAttempts: number;
}

/** How a folder hand-off ended. `examples`: a few of the paths found, for a message that says what was there. */
export type FolderOutcome =
  | { status: 'loaded'; counts: FolderCounts; read: number; unreadable: string[] }
  | { status: 'no-training-images'; counts: FolderCounts; read: number; unreadable: string[]; examples: string[] }
  | { status: 'failed'; message: string };

/** One file of a hand-off: its index in the listing, and the File or why the browser would not open it. */
export type HandedFile = { index: number; file: File } | { index: number; error: string };

export interface StartOptions {
  hubUrl: string;
  name: string;
  joinToken: string | undefined;
  backend: BackendRequest;
  threads: ThreadsRequest;
  credentials: ClientCredentials | null;
  choice: TaskChoice;
}

export type PageToWorker =
  | { type: 'start'; options: StartOptions }
  | { type: 'rename'; id: number; name: string }
  | { type: 'choice'; choice: TaskChoice }
  /** A folder's listing: paths only; the worker answers with the indices of the images it wants. */
  | { type: 'folder:begin'; loadId: number; paths: string[] }
  | { type: 'folder:files'; loadId: number; files: HandedFile[] }
  | { type: 'folder:abort'; loadId: number }
  | { type: 'tensors'; id: number };

export type WorkerToPage =
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'backend:error'; message: string }
  /** `numTensors`: tf.memory().numTensors as this snapshot left; `roundTensors`: taken as each round ended. */
  | { type: 'client'; snapshot: ClientSnapshot; numTensors: number; roundTensors: number[] }
  | { type: 'link'; link: LinkState }
  | { type: 'data'; data: DataState }
  | { type: 'credentials'; credentials: ClientCredentials | null }
  | { type: 'renamed'; id: number; refusal: ErrorBody | null }
  | { type: 'folder:wanted'; loadId: number; indices: number[] }
  | { type: 'folder:progress'; loadId: number; done: number; total: number }
  | { type: 'folder:done'; loadId: number; outcome: FolderOutcome }
  | { type: 'tensors'; id: number; numTensors: number }
  /** Sent every few seconds, so the page can tell a worker that is gone from one that is busy. */
  | { type: 'alive' };
