import './styles.css';
import type { BackendInfo } from '@fl/shared';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { readPageParams } from './page-params';
import { loadTabName, saveTabName } from './tab-name';
import { tabCredentialStore } from './client-credentials';
import { TrainingWorkerHost, type WorkerCrash, type WorkerPort } from './training-worker-host';
import type { DataState, LinkState, TaskChoice, WorkerToPage } from './worker-protocol';
import { FolderHandOff } from './chest/folder-handoff';
import type { FolderListing } from './chest/folder-sources';
import { mountTabView } from './ui/tab-view';
import { mountDataView } from './ui/data-view';
import { mountTrainingView } from './ui/training-view';
import { exposeDebugHook } from './debug-hook';
import { count, seconds } from './ui/format';
import { dataInUse } from './ui/data-in-use';
import { emptyFolderMessage, noTrainingImagesMessage } from './ui/folder-feedback';
import { byId } from './ui/dom';

/**
 * The page: it draws what the training worker reports and hands it the person's choices and folders.
 * TF.js, the data's bytes and the socket live in the worker, so training never blocks this thread.
 */
function main(): void {
  const params = readPageParams(window.location);
  const credentials = tabCredentialStore();
  let name = params.name ?? loadTabName();
  let choice: TaskChoice = 'mnist';
  let data: DataState = { choice, mnist: { status: 'idle' }, chest: null, describe: { task: 'mnist' } };
  let snapshot: ClientSnapshot | null = null;
  let link: LinkState = { error: null, reconnectAttempts: 0 };
  let backend: BackendInfo | null = null;
  let roundTensors: number[] = [];
  let tensorsShown = -1;
  /** The folder in use, as File references: a restarted worker reads it again. */
  let folderInUse: FolderListing | null = null;
  /** The folder being handed over now, and the number of the latest load (an older one gives way). */
  let loading: { listing: FolderListing; handOff: FolderHandOff } | null = null;
  let loadSeq = 0;

  const tabView = mountTabView({
    hubUrl: params.hubUrl,
    name,
    warnings: params.warnings,
    onRename: async (next) => {
      name = next;
      saveTabName(next);
      return host.rename(next);
    },
  });
  const trainingView = mountTrainingView();
  const workerStatus = byId('worker-status');
  const dataView = mountDataView({
    onChoice: (next) => {
      // A folder still loading must not switch the tab back to Chest X-Ray once MNIST was chosen.
      if (next === 'mnist') cancelLoad();
      choice = next;
      host.send({ type: 'choice', choice: next });
    },
    onFolder: (listing) => void loadFolder(listing),
  });

  function renderClient(): void {
    if (!snapshot) return;
    tabView.showConnection(snapshot, link);
    trainingView.render(snapshot, data.describe);
  }

  function onMessage(message: WorkerToPage): void {
    switch (message.type) {
      case 'backend':
        backend = message.backend;
        tabView.showBackend(message.backend);
        return;
      case 'backend:error':
        tabView.showBackendError(message.message);
        return;
      case 'client': {
        snapshot = message.snapshot;
        roundTensors = message.roundTensors;
        renderClient();
        // Shown once at the start and after each round, as counted in the worker at the round's end.
        if (roundTensors.length !== tensorsShown) {
          tensorsShown = roundTensors.length;
          trainingView.showTensors(roundTensors.at(-1) ?? message.numTensors);
        }
        return;
      }
      case 'link':
        link = message.link;
        renderClient();
        return;
      case 'data':
        data = message.data;
        choice = data.choice;
        dataView.render(data);
        renderClient();
        return;
      case 'credentials':
        credentials.save(message.credentials);
        return;
      case 'folder:wanted':
      case 'folder:progress':
      case 'folder:done':
        loading?.handOff.receive(message);
        return;
      case 'renamed':
      case 'tensors':
      case 'alive':
        return;
      default: {
        const _exhaustive: never = message;
        throw new Error(`unknown message from the training worker: ${JSON.stringify(_exhaustive)}`);
      }
    }
  }

  function onCrash(crash: WorkerCrash): void {
    // The dead worker's socket went with it: the tab is connecting again, not connected.
    snapshot = null;
    link = { error: null, reconnectAttempts: 0 };
    tabView.showConnection(null, link);
    tensorsShown = -1;
    workerStatus.hidden = false;
    workerStatus.dataset.restarts = String(crash.restarts);
    workerStatus.dataset.state = crash.restarted ? 'restarted' : 'stopped';
    const at = new Date().toLocaleTimeString();
    const again = loading?.listing ?? folderInUse;
    workerStatus.textContent = crash.restarted
      ? `The training worker stopped at ${at} (${crash.reason}) and was started again; a round it was in is lost, the next one trains here.${again ? ' The folder is being read again.' : ''}`
      : `The training worker stopped again at ${at} (${crash.reason}), too often to start it once more: reload the page.`;
    if (crash.restarted && again) void loadFolder(Promise.resolve(again));
  }

  const host = new TrainingWorkerHost({
    create: () => new Worker(new URL('./worker/training-worker.ts', import.meta.url), { type: 'module', name: 'fl-training' }) as WorkerPort,
    startOptions: () => ({ hubUrl: params.hubUrl, name, joinToken: params.joinToken, backend: params.backend, threads: params.threads, credentials: credentials.load(), choice }),
    onMessage,
    onCrash,
  });

  function cancelLoad(): void {
    loadSeq++;
    loading?.handOff.cancel({ status: 'failed', message: 'replaced' });
    loading = null;
    dataView.showLoadProgress(null);
  }

  async function loadFolder(pending: Promise<FolderListing | null>): Promise<void> {
    cancelLoad();
    const id = loadSeq;
    dataView.showLoadError(null);
    dataView.showLoadProgress({ done: 0, total: 0 }, 'Listing files…');
    const started = performance.now();
    let listing: FolderListing | null;
    try {
      listing = await pending;
    } catch (error) {
      if (id !== loadSeq) return;
      dataView.showLoadProgress(null);
      dataView.showLoadError(`The folder could not be read: ${error instanceof Error ? error.message : String(error)}`, dataInUse(data.describe));
      return;
    }
    if (id !== loadSeq) return;
    if (!listing) {
      dataView.showLoadProgress(null);
      return;
    }
    if (listing.sources.length === 0) {
      dataView.showLoadProgress(null);
      dataView.showLoadError(emptyFolderMessage(listing.folders), dataInUse(data.describe));
      return;
    }
    const handOff = new FolderHandOff({
      loadId: id,
      sources: listing.sources,
      send: (message) => host.send(message),
      onProgress: (done, total) => dataView.showLoadProgress({ done, total }),
    });
    loading = { listing, handOff };
    const outcome = await handOff.done;
    if (id !== loadSeq) return;
    loading = null;
    if (outcome.status === 'failed') {
      dataView.showLoadProgress(null);
      dataView.showLoadError(`The folder could not be read: ${outcome.message}`, dataInUse(data.describe));
      return;
    }
    dataView.showLoadProgress({ done: outcome.read, total: outcome.read }, `Read ${count(outcome.read)} images in ${seconds(performance.now() - started)}`);
    if (outcome.status === 'no-training-images') {
      dataView.showLoadError(noTrainingImagesMessage(outcome.counts, outcome.examples), dataInUse(data.describe));
      return;
    }
    folderInUse = listing;
  }

  dataView.render(data);
  exposeDebugHook({
    snapshot: () => snapshot,
    numTensors: () => host.numTensors(),
    roundTensors: () => [...roundTensors],
    backend: () => backend,
    data: () => data.describe,
  });
}

main();
