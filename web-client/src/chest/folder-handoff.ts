import type { FolderOutcome, HandedFile, PageToWorker, WorkerToPage } from '../worker-protocol';
import type { FileSource } from './folder-sources';

/**
 * Files per message. A clone copies a reference, not the bytes, but the first touch of a File from the folder
 * input asks the browser for its size and date synchronously (~0.15-0.3 ms each in Chromium 156, measured):
 * 32 keep a message near 10 ms, with a task boundary after each.
 */
const FILES_PER_MESSAGE = 32;
/** Files opened at once (a dropped folder's entries open through a callback each). */
const OPENING = 8;

export interface HandOffOptions {
  loadId: number;
  sources: readonly FileSource[];
  send(message: PageToWorker): void;
  onProgress(done: number, total: number): void;
}

/** A macrotask, so the page can paint and answer between batches of files. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The page's side of handing a folder to the training worker: the paths go first, the worker answers which
 * images it wants, and the page opens those and posts them in batches. The page never reads a byte.
 */
export class FolderHandOff {
  readonly done: Promise<FolderOutcome>;
  private settle!: (outcome: FolderOutcome) => void;
  private cancelled = false;

  constructor(private readonly options: HandOffOptions) {
    this.done = new Promise((resolve) => (this.settle = resolve));
    options.send({ type: 'folder:begin', loadId: options.loadId, paths: options.sources.map((s) => s.path) });
  }

  /** Takes the worker's answers for this load; returns false for messages of other loads. */
  receive(message: WorkerToPage): boolean {
    if (!('loadId' in message) || message.loadId !== this.options.loadId || this.cancelled) return false;
    if (message.type === 'folder:wanted') void this.handOver(message.indices);
    else if (message.type === 'folder:progress') this.options.onProgress(message.done, message.total);
    else if (message.type === 'folder:done') this.settle(message.outcome);
    return true;
  }

  /** Stops this load in the page and in the worker; `outcome` is what `done` resolves with. */
  cancel(outcome: FolderOutcome): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.options.send({ type: 'folder:abort', loadId: this.options.loadId });
    this.settle(outcome);
  }

  private async handOver(indices: readonly number[]): Promise<void> {
    const { sources, send, loadId } = this.options;
    let batch: HandedFile[] = [];
    const flush = () => {
      if (batch.length === 0 || this.cancelled) return;
      send({ type: 'folder:files', loadId, files: batch });
      batch = [];
    };
    for (let start = 0; start < indices.length && !this.cancelled; start += OPENING) {
      const opened = await Promise.all(
        indices.slice(start, start + OPENING).map(async (index): Promise<HandedFile> => {
          try {
            return { index, file: await sources[index]!.open() };
          } catch (error) {
            return { index, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
          }
        }),
      );
      batch.push(...opened);
      if (batch.length >= FILES_PER_MESSAGE) {
        flush();
        await nextTask();
      }
    }
    flush();
  }
}
