import { describe, expect, it } from 'vitest';
import type { PageToWorker } from '../../worker-protocol';
import { FolderHandOff } from '../folder-handoff';
import type { FileSource } from '../folder-sources';

function sources(count: number, failing: number[] = []): FileSource[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `chest_xray/train/NORMAL/${i}.jpeg`,
    open: async () => {
      if (failing.includes(i)) throw new DOMException('A requested file or directory could not be found', 'NotFoundError');
      return new File([String(i)], `${i}.jpeg`);
    },
  }));
}

const until = async (predicate: () => boolean) => {
  for (let i = 0; i < 100 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

describe('FolderHandOff', () => {
  it('sends the paths first, then only the files the worker asked for, a few dozen per message', async () => {
    const sent: PageToWorker[] = [];
    const handOff = new FolderHandOff({ loadId: 7, sources: sources(100, [3]), send: (m) => sent.push(m), onProgress: () => {} });
    expect(sent).toEqual([{ type: 'folder:begin', loadId: 7, paths: sources(100).map((s) => s.path) }]);
    const wanted = Array.from({ length: 90 }, (_, i) => i);
    handOff.receive({ type: 'folder:wanted', loadId: 7, indices: wanted });
    const files = () => sent.flatMap((m) => (m.type === 'folder:files' ? m.files : []));
    await until(() => files().length === 90);
    const batches = sent.filter((m) => m.type === 'folder:files');
    expect(batches.every((m) => m.type === 'folder:files' && m.files.length <= 32 && m.loadId === 7)).toBe(true);
    expect(files().map((f) => f.index)).toEqual(wanted);
    expect(files()[3]).toEqual({ index: 3, error: 'NotFoundError: A requested file or directory could not be found' });
    handOff.receive({ type: 'folder:done', loadId: 7, outcome: { status: 'failed', message: 'x' } });
    expect(await handOff.done).toEqual({ status: 'failed', message: 'x' });
  });

  it('ignores another load\'s messages and, once cancelled, tells the worker and sends nothing more', async () => {
    const sent: PageToWorker[] = [];
    const progress: number[] = [];
    const handOff = new FolderHandOff({ loadId: 1, sources: sources(10), send: (m) => sent.push(m), onProgress: (done) => progress.push(done) });
    expect(handOff.receive({ type: 'folder:progress', loadId: 2, done: 5, total: 10 })).toBe(false);
    handOff.receive({ type: 'folder:progress', loadId: 1, done: 3, total: 10 });
    handOff.cancel({ status: 'failed', message: 'replaced' });
    handOff.receive({ type: 'folder:wanted', loadId: 1, indices: [0, 1] });
    await until(() => false);
    expect(progress).toEqual([3]);
    expect(sent.map((m) => m.type)).toEqual(['folder:begin', 'folder:abort']);
    expect(await handOff.done).toEqual({ status: 'failed', message: 'replaced' });
  });
});
