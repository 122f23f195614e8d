import './styles.css';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '@fl/shared';
import { CHEST_XRAY_DEFAULT_SIZE } from '@fl/shared/models';
import { describeFolderCounts } from '@fl/shared/data/chest-xray-folder';
import type { ClientSnapshot } from '@fl/shared/federated-client';
import { readPageParams } from './page-params';
import { loadTabName, saveTabName } from './tab-name';
import { startBackend } from './backend';
import { TabData } from './tab-data';
import { HubSession, type LinkState } from './hub-session';
import { loadChestFolder } from './chest/chest-loader';
import type { FileSource } from './chest/folder-sources';
import { mountTabView } from './ui/tab-view';
import { mountDataView } from './ui/data-view';
import { mountTrainingView } from './ui/training-view';
import { exposeDebugHook } from './debug-hook';
import { count, seconds } from './ui/format';
import { dataInUse } from './ui/data-in-use';

async function main(): Promise<void> {
  const params = readPageParams(window.location);
  const data = new TabData(params.hubUrl);
  let session: HubSession | null = null;
  let backend: BackendInfo | null = null;
  let snapshot: ClientSnapshot | null = null;
  let link: LinkState = { error: null, reconnectAttempts: 0 };
  let roundsLogged = 0;
  const roundTensors: number[] = [];
  let folderLoad: AbortController | null = null;
  let name = params.name ?? loadTabName();

  const tabView = mountTabView({
    hubUrl: params.hubUrl,
    name,
    warnings: params.warnings,
    onRename: async (next) => {
      name = next;
      saveTabName(next);
      return (await session?.rename(next)) ?? null;
    },
  });
  const trainingView = mountTrainingView();
  const dataView = mountDataView({
    onChoice: (choice) => {
      // A folder still loading must not switch the tab back to Chest X-Ray once MNIST was chosen.
      if (choice === 'mnist') folderLoad?.abort();
      data.setChoice(choice);
      void session?.announceData();
    },
    onFolder: (sources) => void loadFolder(sources),
  });

  function renderClient(): void {
    if (!snapshot) return;
    tabView.showConnection(snapshot, link);
    trainingView.render(snapshot, data.describe());
    if (snapshot.roundsDone > roundsLogged) {
      roundsLogged = snapshot.roundsDone;
      const numTensors = tf.memory().numTensors;
      roundTensors.push(numTensors);
      console.info(`[fl] round ${snapshot.lastRound?.round} done; tf.memory().numTensors = ${numTensors}`);
      trainingView.showTensors(numTensors);
    }
  }

  async function loadFolder(listing: Promise<FileSource[]>): Promise<void> {
    folderLoad?.abort();
    const controller = new AbortController();
    folderLoad = controller;
    dataView.showLoadError(null);
    dataView.showLoadProgress({ done: 0, total: 0 }, 'Listing files…');
    const started = performance.now();
    try {
      const sources = await listing;
      if (controller.signal.aborted) return;
      if (sources.length === 0) {
        dataView.showLoadProgress(null);
        return;
      }
      const folder = await loadChestFolder(sources, {
        imageSize: CHEST_XRAY_DEFAULT_SIZE,
        signal: controller.signal,
        onProgress: (progress) => dataView.showLoadProgress(progress),
      });
      const read = folder.train.labels.length + folder.test.labels.length;
      dataView.showLoadProgress({ done: read, total: read }, `Read ${count(read)} images in ${seconds(performance.now() - started)}`);
      if (folder.train.labels.length === 0) {
        dataView.showLoadError(
          `No training images found: the folder needs train/NORMAL and train/PNEUMONIA. Found ${describeFolderCounts(folder.counts)}.`,
          dataInUse(data.describe()),
        );
        return;
      }
      data.setChestFolder(folder);
      await session?.announceData();
    } catch (error) {
      if (controller.signal.aborted) return;
      dataView.showLoadProgress(null);
      dataView.showLoadError(`The folder could not be read: ${error instanceof Error ? error.message : String(error)}`, dataInUse(data.describe()));
    } finally {
      if (folderLoad === controller) folderLoad = null;
    }
  }

  data.onChange(() => {
    dataView.render(data);
    renderClient();
  });
  dataView.render(data);
  // MNIST is the default choice: fetch now, so a load error shows before any round needs the digits.
  void data.mnist().catch(() => {});

  exposeDebugHook({
    snapshot: () => session?.snapshot ?? null,
    roundTensors: () => [...roundTensors],
    backend: () => backend,
    data: () => data.describe(),
  });

  try {
    backend = await startBackend(params.backend);
  } catch (error) {
    tabView.showBackendError(error instanceof Error ? error.message : String(error));
    return;
  }
  tabView.showBackend(backend);
  trainingView.showTensors(tf.memory().numTensors);
  session = new HubSession({
    hubUrl: params.hubUrl,
    name,
    joinToken: params.joinToken,
    backend,
    data,
    onSnapshot: (next) => {
      snapshot = next;
      renderClient();
    },
    onLink: (next) => {
      link = next;
      renderClient();
    },
  });
}

void main();
