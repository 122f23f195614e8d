import { afterEach, describe, expect, it, vi } from 'vitest';
import { TrainingWorkerHost, type WorkerCrash, type WorkerPort } from '../training-worker-host';
import type { PageToWorker, StartOptions, WorkerToPage } from '../worker-protocol';

/** A worker the test speaks for: it records what the page sent and fires the events the test asks for. */
class FakeWorker implements WorkerPort {
  readonly sent: PageToWorker[] = [];
  terminated = false;
  private readonly listeners = new Map<string, Array<(event: never) => void>>();

  postMessage(message: PageToWorker): void {
    this.sent.push(message);
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  terminate(): void {
    this.terminated = true;
  }
  reply(message: WorkerToPage): void {
    for (const listener of this.listeners.get('message') ?? []) listener({ data: message } as never);
  }
  fail(message: string): { defaultPrevented: boolean } {
    const event = { type: 'error', message, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    for (const listener of this.listeners.get('error') ?? []) listener(event as never);
    return event;
  }
}

const options: StartOptions = { hubUrl: 'http://hub', name: 'tab', joinToken: undefined, backend: 'auto', threads: 'auto', credentials: null, choice: 'mnist' };

function host(overrides: { now?: () => number; silenceMs?: number } = {}) {
  const workers: FakeWorker[] = [];
  const crashes: WorkerCrash[] = [];
  const messages: WorkerToPage[] = [];
  let name = 'tab';
  const h = new TrainingWorkerHost({
    create: () => {
      const worker = new FakeWorker();
      workers.push(worker);
      return worker;
    },
    startOptions: () => ({ ...options, name }),
    onMessage: (m) => messages.push(m),
    onCrash: (c) => crashes.push(c),
    ...overrides,
  });
  return { h, workers, crashes, messages, rename: (next: string) => (name = next) };
}

describe('TrainingWorkerHost', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the worker with the page options and hands its messages on, heartbeats aside', () => {
    const { h, workers, messages } = host();
    expect(workers[0]!.sent).toEqual([{ type: 'start', options }]);
    workers[0]!.reply({ type: 'alive' });
    workers[0]!.reply({ type: 'link', link: { error: null, reconnectAttempts: 0 } });
    expect(messages).toEqual([{ type: 'link', link: { error: null, reconnectAttempts: 0 } }]);
    h.close();
  });

  it('answers numTensors and rename from the worker\'s replies, by id', async () => {
    const { h, workers } = host();
    const count = h.numTensors();
    const refusal = h.rename('lab');
    const [, tensors, rename] = workers[0]!.sent as [unknown, { id: number }, { id: number }];
    workers[0]!.reply({ type: 'renamed', id: rename.id, refusal: null });
    workers[0]!.reply({ type: 'tensors', id: tensors.id, numTensors: 6 });
    expect(await count).toBe(6);
    expect(await refusal).toBeNull();
    h.close();
  });

  it('restarts a worker that threw, with the options of now, says so, and ends the answers it owed', async () => {
    const { h, workers, crashes, rename } = host();
    const owed = h.numTensors();
    rename('renamed tab');
    const event = workers[0]!.fail('Uncaught Error: out of memory');
    expect(event.defaultPrevented).toBe(true);
    expect(workers[0]!.terminated).toBe(true);
    expect(crashes).toEqual([{ reason: 'Uncaught Error: out of memory', restarted: true, restarts: 1 }]);
    expect(workers[1]!.sent[0]).toEqual({ type: 'start', options: { ...options, name: 'renamed tab' } });
    await expect(owed).rejects.toThrow('stopped before it counted');
    // The dead worker's late messages are not the new one's.
    h.close();
  });

  it('gives up after the fourth crash within a minute instead of restarting for ever', () => {
    let now = 0;
    const { h, workers, crashes } = host({ now: () => now });
    for (let i = 0; i < 4; i++) {
      now += 1000;
      workers.at(-1)!.fail(`crash ${i}`);
    }
    expect(crashes.map((c) => c.restarted)).toEqual([true, true, true, false]);
    expect(workers).toHaveLength(4);
    h.close();
  });

  it('takes a worker that stays silent past its heartbeats for dead (a worker killed for memory sends no event)', () => {
    vi.useFakeTimers();
    const { h, workers, crashes } = host({ now: () => Date.now(), silenceMs: 10_000 });
    vi.advanceTimersByTime(6_000);
    workers[0]!.reply({ type: 'alive' });
    vi.advanceTimersByTime(6_000);
    expect(crashes).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(crashes).toEqual([{ reason: 'it sent nothing for 10 s', restarted: true, restarts: 1 }]);
    expect(workers).toHaveLength(2);
    h.close();
  });

  it('ignores messages from a worker it already replaced', () => {
    const { h, workers, messages } = host();
    workers[0]!.fail('boom');
    workers[0]!.reply({ type: 'link', link: { error: 'late', reconnectAttempts: 1 } });
    expect(messages).toEqual([]);
    h.close();
  });
});
