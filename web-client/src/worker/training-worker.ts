/**
 * The tab's training worker: TF.js and its backend, the data's bytes, the FederatedClient and its socket.
 * The page sends it the folder's files and the person's choices; it sends back snapshots to draw.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '@fl/shared';
import type { ClientCredentials, CredentialStore } from '@fl/shared/federated-client';
import type { PageToWorker, StartOptions, WorkerToPage } from '../worker-protocol';
import { startBackend } from '../backend';
import { planWasmThreads } from '../backend-plan';
import { TabData } from './tab-data';
import { HubSession } from './hub-session';
import { FolderIntake } from './folder-intake';
import { SnapshotThrottle } from './snapshot-throttle';

/** The parts of DedicatedWorkerGlobalScope used here (the DOM lib types `self` as a Window). */
interface WorkerScope {
  postMessage(message: WorkerToPage): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<PageToWorker>) => void): void;
}

const scope = self as unknown as WorkerScope;
const post = (message: WorkerToPage) => scope.postMessage(message);

/** One worker serves one tab: everything below lives from its 'start' message to its end. */
class TrainingWorker {
  private readonly data: TabData;
  private session: HubSession | null = null;
  private readonly roundTensors: number[] = [];
  private roundsLogged = 0;
  private readonly intake: FolderIntake;
  /** The name for the coming join; a rename before the session exists only changes this. */
  private name: string;
  private readonly throttle = new SnapshotThrottle((snapshot) =>
    post({ type: 'client', snapshot, numTensors: tf.memory().numTensors, roundTensors: [...this.roundTensors] }),
  );

  constructor(private readonly options: StartOptions) {
    this.name = options.name;
    this.data = new TabData(options.hubUrl);
    this.data.onChange(() => post({ type: 'data', data: this.data.state() }));
    this.intake = new FolderIntake({
      post,
      keep: async (folder) => {
        this.data.setChestFolder(folder);
        await this.session?.announceData();
      },
    });
    this.data.setChoice(options.choice);
    // MNIST is the default choice: fetch now, so a load error shows before any round needs the digits.
    if (options.choice === 'mnist') void this.data.mnist().catch(() => {});
    post({ type: 'data', data: this.data.state() });
    void this.connect();
  }

  handle(message: PageToWorker): void {
    switch (message.type) {
      case 'start':
        return;
      case 'rename':
        void this.rename(message.id, message.name);
        return;
      case 'choice':
        this.data.setChoice(message.choice);
        void this.session?.announceData();
        return;
      case 'folder:begin':
        this.intake.begin(message.loadId, message.paths);
        return;
      case 'folder:files':
        this.intake.receive(message.loadId, message.files);
        return;
      case 'folder:abort':
        this.intake.abort(message.loadId);
        return;
      case 'tensors':
        post({ type: 'tensors', id: message.id, numTensors: tf.memory().numTensors });
        return;
      default: {
        const _exhaustive: never = message;
        throw new Error(`unknown message ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  private async connect(): Promise<void> {
    let backend: BackendInfo;
    // Decided here, where TF.js runs: the worker's own cross-origin isolation is what counts.
    const threads = planWasmThreads(this.options.threads, { logicalCores: navigator.hardwareConcurrency, crossOriginIsolated: globalThis.crossOriginIsolated === true });
    try {
      backend = await startBackend(this.options.backend, { wasmThreads: threads.threads });
      if (this.options.threads !== 'auto' && backend.name === 'wasm') backend = { ...backend, reason: `${backend.reason ?? ''}; ${threads.reason}`.slice(0, 300) };
    } catch (error) {
      post({ type: 'backend:error', message: error instanceof Error ? error.message : String(error) });
      return;
    }
    post({ type: 'backend', backend });
    this.session = new HubSession({
      hubUrl: this.options.hubUrl,
      name: this.name,
      joinToken: this.options.joinToken,
      backend,
      data: this.data,
      credentials: pageCredentialStore(this.options.credentials),
      onSnapshot: (snapshot) => {
        // Counted as the round ends, before anything else runs: the same moment the page counted it before.
        if (snapshot.roundsDone > this.roundsLogged) {
          this.roundsLogged = snapshot.roundsDone;
          const numTensors = tf.memory().numTensors;
          this.roundTensors.push(numTensors);
          console.info(`[fl] round ${snapshot.lastRound?.round} done; tf.memory().numTensors = ${numTensors}`);
        }
        this.throttle.push(snapshot);
      },
      onLink: (link) => post({ type: 'link', link }),
    });
  }

  private async rename(id: number, name: string): Promise<void> {
    this.name = name;
    const refusal = (await this.session?.rename(name)) ?? null;
    post({ type: 'renamed', id, refusal });
  }
}

/** Credentials start as the page read them from sessionStorage; every change goes back for it to keep. */
function pageCredentialStore(initial: ClientCredentials | null): CredentialStore {
  let held = initial;
  return {
    load: () => held,
    save(credentials) {
      held = credentials;
      post({ type: 'credentials', credentials });
    },
  };
}

let worker: TrainingWorker | null = null;
scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type === 'start') worker ??= new TrainingWorker(message.options);
  else worker?.handle(message);
});
// Lets the page tell a worker that is gone from one that is busy.
setInterval(() => post({ type: 'alive' }), 2000);
