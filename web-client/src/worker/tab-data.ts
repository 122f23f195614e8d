import type { ClientData, RoundStart, TaskId } from '@fl/shared';
import type { DataProvider } from '@fl/shared/federated-client';
import type { LocalDataset } from '@fl/shared/training';
import { createMnistDataset, decodeShard } from '@fl/shared/data/mnist-dataset';
import { createChestXrayDataset } from '@fl/shared/data/chest-xray-dataset';
import type { DataState, MnistState, TaskChoice } from '../worker-protocol';
import { loadMnistFromHub, type MnistImages } from './mnist-loader';
import type { ChestFolderData } from './chest-loader';

interface ChestState {
  folder: ChestFolderData;
  train: LocalDataset;
  test: LocalDataset | null;
}

/**
 * What this tab trains on: MNIST from the hub, or a chest X-ray folder loaded in the tab.
 * Lives in the training worker and holds bytes only; tensors are built per batch by the datasets.
 */
export class TabData implements DataProvider {
  private choiceValue: TaskChoice = 'mnist';
  private chestState: ChestState | null = null;
  private mnistLoad: Promise<MnistImages> | null = null;
  private mnistStateValue: MnistState = { status: 'idle' };
  private readonly listeners = new Set<() => void>();

  constructor(private readonly hubUrl: string) {}

  get choice(): TaskChoice {
    return this.choiceValue;
  }

  get chest(): ChestFolderData | null {
    return this.chestState?.folder ?? null;
  }

  get mnistState(): MnistState {
    return this.mnistStateValue;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  setChoice(choice: TaskChoice): void {
    if (choice === this.choiceValue) return;
    this.choiceValue = choice;
    if (choice === 'mnist') void this.mnist().catch(() => {});
    this.emit();
  }

  /** Keeps a loaded folder and switches the tab to Chest X-Ray. */
  setChestFolder(folder: ChestFolderData): void {
    const testSize = folder.test.labels.length;
    this.chestState = {
      folder,
      train: createChestXrayDataset(folder.train, { balanced: true }),
      test: testSize > 0 ? createChestXrayDataset(folder.test, { balanced: false }) : null,
    };
    this.choiceValue = 'chest-xray';
    this.emit();
  }

  /** What the page shows: counts and names, no pixels. */
  state(): DataState {
    const folder = this.chestState?.folder;
    return {
      choice: this.choiceValue,
      mnist: this.mnistStateValue,
      chest: folder ? { counts: folder.counts, unreadable: folder.unreadable } : null,
      describe: this.describe(),
    };
  }

  describe(): ClientData | null {
    if (this.choiceValue === 'mnist') return { task: 'mnist' };
    const folder = this.chestState?.folder;
    if (!folder || folder.train.labels.length === 0) return null;
    const { train, test } = folder.counts;
    return { task: 'chest-xray', imageSize: folder.train.imageSize, train: { ...train }, test: { ...test } };
  }

  async trainingSet(start: RoundStart): Promise<LocalDataset> {
    const task = start.settings.task;
    if (task === 'mnist') {
      const { images, labels } = await this.mnist();
      if (!start.shard) throw new Error('round:start for MNIST carried no shard');
      return createMnistDataset(images, labels, decodeShard(start.shard));
    }
    if (!this.chestState) throw new Error('the hub started a Chest X-Ray round, but no folder is loaded in this tab');
    return this.chestState.train;
  }

  async testSet(task: TaskId): Promise<LocalDataset | null> {
    return task === 'chest-xray' ? (this.chestState?.test ?? null) : null;
  }

  /** Fetches the hub's digits once; a failed load is retried on the next call. */
  mnist(): Promise<MnistImages> {
    if (!this.mnistLoad) {
      this.setMnistState({ status: 'loading' });
      this.mnistLoad = loadMnistFromHub(this.hubUrl).then(
        (data) => {
          this.setMnistState({ status: 'ready', count: data.labels.length });
          return data;
        },
        (error: unknown) => {
          this.mnistLoad = null;
          this.setMnistState({ status: 'error', message: error instanceof Error ? error.message : String(error) });
          throw error;
        },
      );
    }
    return this.mnistLoad;
  }

  private setMnistState(state: MnistState): void {
    this.mnistStateValue = state;
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
