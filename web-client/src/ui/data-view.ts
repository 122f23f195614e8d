import { describeFolderCounts, totalSkipped } from '@fl/shared/data/chest-xray-folder';
import { BALANCING_METHOD } from '@fl/shared/data/chest-xray-dataset';
import { canPickDirectory, pickDirectory, sourcesFromDrop, sourcesFromFiles, type FolderListing } from '../chest/folder-sources';
import type { ChestSummary, DataState, TaskChoice } from '../worker-protocol';
import { byId, h } from './dom';
import { count } from './format';
import { unreadableNote } from './folder-feedback';

export interface LoadProgress {
  done: number;
  total: number;
}

export interface DataViewOptions {
  onChoice: (choice: TaskChoice) => void;
  /** A folder was chosen or dropped; its listing may still be in progress; null: the picker was cancelled. */
  onFolder: (listing: Promise<FolderListing | null>) => void;
}

export interface DataView {
  render(data: DataState): void;
  showLoadProgress(progress: LoadProgress | null, label?: string): void;
  /** `inUse` says which data the tab keeps training on, since the folder did not replace it. */
  showLoadError(message: string | null, inUse?: string): void;
}

/** The task choice, MNIST status, and the chest folder's drop zone, progress and summary. */
export function mountDataView(options: DataViewOptions): DataView {
  const radios = document.querySelectorAll<HTMLInputElement>('input[name="task"]');
  for (const radio of radios) radio.addEventListener('change', () => radio.checked && options.onChoice(radio.value as TaskChoice));

  const input = byId<HTMLInputElement>('folder-input');
  input.addEventListener('change', () => {
    // An empty list is an answer too: an empty folder, or one whose files are all symbolic links.
    const sources = sourcesFromFiles(input.files ?? []);
    // Let go of the FileList, so the same folder can be chosen again.
    input.value = '';
    options.onFolder(Promise.resolve({ sources, folders: null }));
  });
  byId('choose-folder').addEventListener('click', () => {
    if (!canPickDirectory()) {
      input.click();
      return;
    }
    options.onFolder(pickDirectory());
  });

  const zone = byId('drop-zone');
  let depth = 0;
  zone.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth++;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dragging');
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove('dragging');
    if (event.dataTransfer) options.onFolder(sourcesFromDrop(event.dataTransfer));
  });
  // A folder dropped next to the zone would otherwise make the browser navigate to it.
  for (const type of ['dragover', 'drop'] as const) window.addEventListener(type, (event) => event.preventDefault());

  const mnistStatus = byId('mnist-status');
  const progress = byId('load-progress');
  const progressBar = byId<HTMLProgressElement>('load-progress-bar');
  const progressLabel = byId('load-progress-label');
  const loadError = byId('load-error');
  const summary = byId('dataset-summary');
  const balance = byId('balance-note');
  const chestHint = byId('chest-hint');
  const dropTitle = byId('drop-title');
  const emptyTitle = dropTitle.textContent ?? '';

  return {
    render(data) {
      for (const radio of radios) radio.checked = radio.value === data.choice;
      document.body.dataset.task = data.choice;
      const mnist = data.mnist;
      mnistStatus.dataset.state = mnist.status;
      mnistStatus.textContent =
        mnist.status === 'ready'
          ? `${count(mnist.count)} MNIST digits loaded from the hub; each run gives this tab its own shard.`
          : mnist.status === 'loading'
            ? 'Loading MNIST digits from the hub…'
            : mnist.status === 'error'
              ? `MNIST digits could not be loaded: ${mnist.message}. The tab tries again when a round needs them.`
              : '';
      mnistStatus.hidden = data.choice !== 'mnist' || mnist.status === 'idle';
      renderChest(data.chest, data.choice);
    },
    showLoadProgress(value, label) {
      progress.hidden = value === null;
      if (!value) return;
      progressBar.max = Math.max(1, value.total);
      progressBar.value = value.done;
      progressLabel.textContent = label ?? `Reading images: ${count(value.done)} / ${count(value.total)}`;
      progress.dataset.done = String(value.done);
      progress.dataset.total = String(value.total);
    },
    showLoadError(message, inUse) {
      loadError.hidden = message === null;
      loadError.replaceChildren();
      if (message !== null) loadError.append(h('span', {}, message));
      if (message !== null && inUse) loadError.append(h('strong', { class: 'in-use', testid: 'data-in-use' }, inUse));
    },
  };

  function renderChest(folder: ChestSummary | null, choice: TaskChoice): void {
    summary.hidden = folder === null;
    balance.hidden = folder === null;
    chestHint.hidden = folder !== null || choice !== 'chest-xray';
    dropTitle.textContent = folder ? 'Folder loaded. Drop or choose another chest_xray folder to replace it.' : emptyTitle;
    if (!folder) return;
    const { counts, unreadable } = folder;
    // Kept for a switch back, but not what the tab trains on: say so, or the summary reads as the data in use.
    const which = choice === 'mnist' ? 'Kept, not in use (training on MNIST)' : 'In use for training';
    const note = unreadableNote(unreadable);
    summary.textContent = `${which}: ${describeFolderCounts(counts)}.${note ? ` ${note}` : ''}`;
    summary.dataset.inUse = String(choice === 'chest-xray');
    summary.dataset.unreadable = String(unreadable.length);
    Object.assign(summary.dataset, {
      trainNormal: String(counts.train.normal),
      trainPneumonia: String(counts.train.pneumonia),
      testNormal: String(counts.test.normal),
      testPneumonia: String(counts.test.pneumonia),
      skipped: String(totalSkipped(counts)),
      duplicates: String(counts.duplicates),
    });
    balance.textContent = BALANCING_METHOD;
  }
}
