import { describe, expect, it } from 'vitest';
import { classifyPath, countUndecodable, describeFolderCounts, planFolder, totalSkipped } from '../chest-xray-folder';

describe('classifyPath', () => {
  it('finds split and class folders case-insensitively wherever they are', () => {
    expect(classifyPath('chest_xray/chest_xray/train/NORMAL/IM-0115-0001.jpeg')).toEqual({
      kind: 'image',
      split: 'train',
      label: 0,
      key: 'train/NORMAL/IM-0115-0001.jpeg',
    });
    expect(classifyPath('/Test/pneumonia/person1_virus_6.JPG')).toMatchObject({ kind: 'image', split: 'test', label: 1, key: 'test/PNEUMONIA/person1_virus_6.JPG' });
    expect(classifyPath('data\\Train\\Normal\\a.png')).toMatchObject({ kind: 'image', split: 'train', label: 0 });
  });

  it('takes the innermost split folder, so a parent called "test" does not decide', () => {
    expect(classifyPath('test/chest_xray/train/PNEUMONIA/a.jpeg')).toMatchObject({ split: 'train', label: 1, key: 'train/PNEUMONIA/a.jpeg' });
  });

  it('skips macOS metadata and dotfiles, even when they look like images', () => {
    expect(classifyPath('chest_xray/__MACOSX/chest_xray/train/NORMAL/._a.jpeg')).toEqual({ kind: 'skipped', reason: 'metadata' });
    expect(classifyPath('chest_xray/train/NORMAL/.DS_Store')).toEqual({ kind: 'skipped', reason: 'metadata' });
    expect(classifyPath('chest_xray/.git/train/NORMAL/a.jpeg')).toEqual({ kind: 'skipped', reason: 'metadata' });
  });

  it('skips files that are not images by extension', () => {
    expect(classifyPath('chest_xray/train/NORMAL/notes.txt')).toEqual({ kind: 'skipped', reason: 'not-image' });
    expect(classifyPath('chest_xray/train/NORMAL/a.jpeg.zip')).toEqual({ kind: 'skipped', reason: 'not-image' });
    expect(classifyPath('')).toEqual({ kind: 'skipped', reason: 'not-image' });
  });

  it('skips images outside a split/class folder pair', () => {
    expect(classifyPath('chest_xray/readme.png')).toEqual({ kind: 'skipped', reason: 'outside-split' });
    expect(classifyPath('chest_xray/train/a.jpeg')).toEqual({ kind: 'skipped', reason: 'outside-split' });
    expect(classifyPath('NORMAL/train/a.jpeg')).toEqual({ kind: 'skipped', reason: 'outside-split' });
  });

  it('recognises val/ as its own split', () => {
    expect(classifyPath('chest_xray/val/NORMAL/a.jpeg')).toMatchObject({ kind: 'image', split: 'val', label: 0 });
  });
});

describe('planFolder', () => {
  const kaggleLike = [
    'chest_xray/train/NORMAL/n1.jpeg',
    'chest_xray/train/NORMAL/n2.jpeg',
    'chest_xray/train/PNEUMONIA/p1.jpeg',
    'chest_xray/train/PNEUMONIA/p2.jpeg',
    'chest_xray/train/PNEUMONIA/p3.jpeg',
    'chest_xray/test/NORMAL/n9.jpeg',
    'chest_xray/test/PNEUMONIA/p9.jpeg',
    'chest_xray/val/NORMAL/v1.jpeg',
    'chest_xray/val/PNEUMONIA/v2.jpeg',
    // The nested copy in the Kaggle zip: the same images again.
    'chest_xray/chest_xray/train/NORMAL/n1.jpeg',
    'chest_xray/chest_xray/train/PNEUMONIA/p1.jpeg',
    'chest_xray/chest_xray/test/NORMAL/n9.jpeg',
    'chest_xray/chest_xray/val/NORMAL/v1.jpeg',
    'chest_xray/__MACOSX/chest_xray/train/NORMAL/._n1.jpeg',
    'chest_xray/.DS_Store',
    'chest_xray/train/.DS_Store',
    'chest_xray/train/NORMAL/notes.txt',
  ];

  it('counts each image once per split and class, and counts what it skips', () => {
    const { images, counts } = planFolder(kaggleLike, (p) => p);
    expect(counts.train).toEqual({ normal: 2, pneumonia: 3 });
    expect(counts.test).toEqual({ normal: 1, pneumonia: 1 });
    expect(counts.val).toEqual({ normal: 1, pneumonia: 1 });
    expect(counts.duplicates).toBe(4);
    expect(counts.skipped).toEqual({ metadata: 3, 'not-image': 1, 'outside-split': 0, undecodable: 0 });
    expect(totalSkipped(counts)).toBe(4);
    expect(images.map((i) => i.key)).toEqual([
      'train/NORMAL/n1.jpeg',
      'train/NORMAL/n2.jpeg',
      'train/PNEUMONIA/p1.jpeg',
      'train/PNEUMONIA/p2.jpeg',
      'train/PNEUMONIA/p3.jpeg',
      'test/NORMAL/n9.jpeg',
      'test/PNEUMONIA/p9.jpeg',
    ]);
  });

  it('keeps the caller item of the first copy, and never plans val/ images for decoding', () => {
    const items = kaggleLike.map((path, id) => ({ path, id }));
    const { images } = planFolder(items, (i) => i.path);
    expect(images[0]!.item.id).toBe(0);
    expect(images.some((i) => i.key.startsWith('val/'))).toBe(false);
  });

  it('moves an undecodable image from its class count to the skipped ones', () => {
    const { counts } = planFolder(kaggleLike, (p) => p);
    countUndecodable(counts, 'train', 1);
    expect(counts.train).toEqual({ normal: 2, pneumonia: 2 });
    expect(counts.skipped.undecodable).toBe(1);
    expect(totalSkipped(counts)).toBe(5);
  });

  it('describes the counts in one line', () => {
    const { counts } = planFolder(kaggleLike, (p) => p);
    expect(describeFolderCounts(counts)).toBe(
      'train: 2 NORMAL · 3 PNEUMONIA; test: 1 NORMAL · 1 PNEUMONIA; val: 1 NORMAL · 1 PNEUMONIA (not used); ' +
        '4 files skipped (3 hidden or macOS metadata, 1 not images); 4 duplicate copies counted once',
    );
    const big = planFolder(['train/NORMAL/a.txt'], (p) => p).counts;
    big.train = { normal: 1341, pneumonia: 3875 };
    expect(describeFolderCounts(big)).toBe('train: 1,341 NORMAL · 3,875 PNEUMONIA; test: 0 NORMAL · 0 PNEUMONIA; 1 file skipped (not images)');
  });
});
