import { describe, expect, it } from 'vitest';
import type { FolderPlan } from '@fl/shared/data/chest-xray-folder';
import type { WorkerToPage } from '../../worker-protocol';
import type { ChestFolderData, FileSource, LoadOptions } from '../chest-loader';
import { FolderIntake } from '../folder-intake';

const PATHS = [
  'chest_xray/.DS_Store',
  'chest_xray/train/NORMAL/a.jpeg',
  'chest_xray/train/PNEUMONIA/b.jpeg',
  'chest_xray/README.txt',
  'chest_xray/test/NORMAL/c.png',
];

/** Stands in for the canvas decoder: opens every planned image, counts the ones that came as files. */
async function openAll(plan: FolderPlan<FileSource>, options: LoadOptions): Promise<ChestFolderData> {
  const unreadable: string[] = [];
  const labels = { train: [] as number[], test: [] as number[] };
  for (const image of plan.images) {
    options.signal?.throwIfAborted();
    try {
      await image.item.open();
      labels[image.split].push(image.label);
    } catch {
      if (!options.signal?.aborted) unreadable.push(image.item.path);
    }
  }
  options.signal?.throwIfAborted();
  const images = (l: number[]) => ({ pixels: new Uint8Array(l.length * 4), labels: Uint8Array.from(l), imageSize: 2 });
  return { train: images(labels.train), test: images(labels.test), counts: plan.counts, unreadable };
}

function intake() {
  const posted: WorkerToPage[] = [];
  const kept: ChestFolderData[] = [];
  const folder = new FolderIntake({ post: (m) => posted.push(m), keep: async (f) => void kept.push(f), decode: openAll });
  const done = () => posted.find((m) => m.type === 'folder:done');
  return { folder, posted, kept, done };
}

const file = (name: string) => new File([name], name);
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('FolderIntake', () => {
  it('asks the page only for the images among the paths, takes them in any order, and keeps the folder', async () => {
    const { folder, posted, kept, done } = intake();
    folder.begin(1, PATHS);
    expect(posted[0]).toEqual({ type: 'folder:wanted', loadId: 1, indices: [1, 2, 4] });
    // The last image comes before the decoder asks for it, the first after.
    folder.receive(1, [{ index: 4, file: file('c') }]);
    await settle();
    folder.receive(1, [{ index: 1, file: file('a') }, { index: 2, file: file('b') }]);
    await settle();
    expect(done()).toMatchObject({ loadId: 1, outcome: { status: 'loaded', read: 3, unreadable: [] } });
    expect(kept).toHaveLength(1);
  });

  it('names the images the browser would not open, and answers with no training images when none came', async () => {
    const { folder, kept, done } = intake();
    folder.begin(2, PATHS);
    folder.receive(2, [
      { index: 1, error: 'NotFoundError: A requested file or directory could not be found' },
      { index: 2, error: 'NotReadableError: link' },
      { index: 4, file: file('c') },
    ]);
    await settle();
    expect(done()).toMatchObject({
      outcome: { status: 'no-training-images', read: 1, unreadable: ['chest_xray/train/NORMAL/a.jpeg', 'chest_xray/train/PNEUMONIA/b.jpeg'], examples: PATHS },
    });
    expect(kept).toEqual([]);
  });

  it('drops a load that a newer folder replaced, and files sent for it', async () => {
    const { folder, posted, kept } = intake();
    folder.begin(3, PATHS);
    folder.begin(4, ['x/train/NORMAL/only.jpeg']);
    folder.receive(3, [{ index: 1, file: file('a') }]);
    folder.receive(4, [{ index: 0, file: file('only') }]);
    await settle();
    expect(posted.filter((m) => m.type === 'folder:done').map((m) => m.loadId)).toEqual([4]);
    expect(kept.map((f) => f.train.labels.length)).toEqual([1]);
  });

  it('says nothing more once the page aborted the load', async () => {
    const { folder, done } = intake();
    folder.begin(5, PATHS);
    folder.abort(5);
    await settle();
    expect(done()).toBeUndefined();
  });
});
