import type { ErrorBody } from '@fl/shared';
import type { PageToWorker, StartOptions, WorkerToPage } from './worker-protocol';

/** The parts of a Worker the host uses, so tests can hand it a fake. */
export interface WorkerPort {
  postMessage(message: PageToWorker): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerToPage>) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate(): void;
}

export interface HostOptions {
  create(): WorkerPort;
  /** Read at every (re)start: the current name, choice and credentials. */
  startOptions(): StartOptions;
  onMessage(message: WorkerToPage): void;
  /** The worker died and a new one was started (`restarted`), or it kept dying and the host gave up. */
  onCrash(crash: WorkerCrash): void;
  /** A worker that sends nothing for this long is taken for dead (default 60 s; it says it is alive every 2 s). */
  silenceMs?: number;
  now?: () => number;
}

export interface WorkerCrash {
  reason: string;
  restarted: boolean;
  /** Restarts so far in this tab. */
  restarts: number;
}

/** More crashes than this within CRASH_WINDOW_MS and the host stops restarting: something is wrong for good. */
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 60_000;

/**
 * Starts the training worker and starts it again when it dies: an uncaught error, a failed load, or
 * silence (a worker killed for memory sends no event). Pending answers end with the worker that owed them.
 */
export class TrainingWorkerHost {
  private worker: WorkerPort | null = null;
  private lastHeard = 0;
  private crashes: number[] = [];
  private restarts = 0;
  private nextId = 1;
  private readonly waiting = new Map<number, (message: WorkerToPage | null) => void>();
  private readonly watchdog: ReturnType<typeof setInterval>;
  private readonly now: () => number;

  constructor(private readonly options: HostOptions) {
    this.now = options.now ?? (() => performance.now());
    this.spawn();
    const silence = options.silenceMs ?? 60_000;
    this.watchdog = setInterval(() => {
      if (this.worker && this.now() - this.lastHeard > silence) this.crashed(`it sent nothing for ${Math.round(silence / 1000)} s`);
    }, Math.min(5000, silence / 2));
  }

  send(message: PageToWorker): void {
    this.worker?.postMessage(message);
  }

  /** Asks the worker to join again under a new name; the hub's refusal, or null. */
  async rename(name: string): Promise<ErrorBody | null> {
    const id = this.nextId++;
    const answer = await this.ask(id, { type: 'rename', id, name });
    return answer?.type === 'renamed' ? answer.refusal : null;
  }

  /** tf.memory().numTensors in the worker now. */
  async numTensors(): Promise<number> {
    const id = this.nextId++;
    const answer = await this.ask(id, { type: 'tensors', id });
    if (answer?.type !== 'tensors') throw new Error('the training worker stopped before it counted its tensors');
    return answer.numTensors;
  }

  close(): void {
    clearInterval(this.watchdog);
    this.worker?.terminate();
    this.worker = null;
  }

  private ask(id: number, message: PageToWorker): Promise<WorkerToPage | null> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.send(message);
    });
  }

  private spawn(): void {
    const worker = this.options.create();
    this.worker = worker;
    this.lastHeard = this.now();
    worker.addEventListener('message', (event) => {
      if (this.worker !== worker) return;
      this.lastHeard = this.now();
      const message = event.data;
      if ((message.type === 'renamed' || message.type === 'tensors') && this.waiting.has(message.id)) {
        this.waiting.get(message.id)!(message);
        this.waiting.delete(message.id);
        return;
      }
      if (message.type !== 'alive') this.options.onMessage(message);
    });
    const onError = (event: Event) => {
      if (this.worker !== worker) return;
      // Handled here: the page shows it; the browser need not report it as the page's own error too.
      event.preventDefault();
      const message = (event as Partial<ErrorEvent>).message;
      const detail = message ? message : event.type === 'messageerror' ? 'a message could not be read' : 'it failed to load or run';
      this.crashed(detail);
    };
    worker.addEventListener('error', onError);
    worker.addEventListener('messageerror', onError);
    worker.postMessage({ type: 'start', options: this.options.startOptions() });
  }

  private crashed(reason: string): void {
    this.worker?.terminate();
    this.worker = null;
    for (const resolve of this.waiting.values()) resolve(null);
    this.waiting.clear();
    const now = this.now();
    this.crashes = [...this.crashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
    const restarted = this.crashes.length <= MAX_CRASHES;
    if (restarted) {
      this.restarts++;
      this.spawn();
    }
    this.options.onCrash({ reason, restarted, restarts: this.restarts });
  }
}
