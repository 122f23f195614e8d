import { CHEST_XRAY_DEFAULT_SIZE } from '@fl/shared/models';
import type { FolderPlan } from '@fl/shared/data/chest-xray-folder';
import type { FolderOutcome, HandedFile, WorkerToPage } from '../worker-protocol';
import { decodeChestFolder, planChestFolder, type ChestFolderData, type FileSource } from './chest-loader';

/** Progress reaches the page at most this often; the last count always does. */
const PROGRESS_EVERY_MS = 100;
/** How many of the found paths a "no training images" answer names. */
const EXAMPLES = 5;

interface Pending {
  resolve(file: Blob): void;
  reject(error: Error): void;
}

interface Load {
  id: number;
  controller: AbortController;
  waiting: Map<number, Pending>;
  /** Files that came before the decoder asked for them. */
  arrived: Map<number, HandedFile>;
}

export interface FolderIntakeOptions {
  post(message: WorkerToPage): void;
  /** Takes a folder with training images; the tab trains on it from now on. */
  keep(folder: ChestFolderData): Promise<void>;
  /** Decodes the planned images (tests hand in their own; the default draws on an OffscreenCanvas). */
  decode?: typeof decodeChestFolder;
}

/**
 * The worker's side of a folder hand-off: plans the folder from its paths, asks the page for the images
 * it needs, and decodes them as they arrive, so the page never touches a pixel. One load at a time;
 * a newer folder aborts the one before.
 */
export class FolderIntake {
  private load: Load | null = null;

  constructor(private readonly options: FolderIntakeOptions) {}

  begin(loadId: number, paths: readonly string[]): void {
    this.abort(this.load?.id ?? -1);
    const load: Load = { id: loadId, controller: new AbortController(), waiting: new Map(), arrived: new Map() };
    this.load = load;
    const listed = paths.map((path, index) => ({ path, index, open: () => this.fileAt(load, index) }));
    const plan = planChestFolder(listed);
    this.options.post({ type: 'folder:wanted', loadId, indices: plan.images.map((image) => image.item.index) });
    void this.decode(load, plan, paths);
  }

  receive(loadId: number, files: readonly HandedFile[]): void {
    const load = this.load;
    if (load?.id !== loadId) return;
    for (const handed of files) {
      const pending = load.waiting.get(handed.index);
      if (!pending) {
        load.arrived.set(handed.index, handed);
        continue;
      }
      load.waiting.delete(handed.index);
      settle(pending, handed);
    }
  }

  abort(loadId: number): void {
    const load = this.load;
    if (load?.id !== loadId) return;
    this.load = null;
    load.controller.abort();
    for (const pending of load.waiting.values()) pending.reject(new Error('the folder load was replaced'));
    load.waiting.clear();
    load.arrived.clear();
  }

  private fileAt(load: Load, index: number): Promise<Blob> {
    const early = load.arrived.get(index);
    if (early) {
      load.arrived.delete(index);
      return new Promise((resolve, reject) => settle({ resolve, reject }, early));
    }
    return new Promise((resolve, reject) => load.waiting.set(index, { resolve, reject }));
  }

  private async decode(load: Load, plan: FolderPlan<FileSource>, paths: readonly string[]): Promise<void> {
    const { post } = this.options;
    let lastProgress = -Infinity;
    let outcome: FolderOutcome;
    try {
      const decode = this.options.decode ?? decodeChestFolder;
      const folder = await decode(plan, {
        imageSize: CHEST_XRAY_DEFAULT_SIZE,
        signal: load.controller.signal,
        onProgress: ({ done, total }) => {
          const now = performance.now();
          if (done < total && now - lastProgress < PROGRESS_EVERY_MS) return;
          lastProgress = now;
          post({ type: 'folder:progress', loadId: load.id, done, total });
        },
      });
      const read = folder.train.labels.length + folder.test.labels.length;
      if (folder.train.labels.length === 0) {
        outcome = { status: 'no-training-images', counts: folder.counts, read, unreadable: folder.unreadable, examples: paths.slice(0, EXAMPLES) };
      } else {
        await this.options.keep(folder);
        outcome = { status: 'loaded', counts: folder.counts, read, unreadable: folder.unreadable };
      }
    } catch (error) {
      if (load.controller.signal.aborted) return;
      outcome = { status: 'failed', message: error instanceof Error ? error.message : String(error) };
    } finally {
      if (this.load === load) this.load = null;
    }
    post({ type: 'folder:done', loadId: load.id, outcome });
  }
}

function settle(pending: Pending, handed: HandedFile): void {
  if ('file' in handed) pending.resolve(handed.file);
  else pending.reject(new Error(handed.error));
}
