import { describe, expect, it } from 'vitest';
import { emptyFolderCounts, planFolder } from '@fl/shared/data/chest-xray-folder';
import { emptyFolderMessage, nameSome, noTrainingImagesMessage, unreadableNote } from '../folder-feedback';

describe('folder feedback', () => {
  it('says an empty listing may be a folder of symbolic links, and what the tab needs', () => {
    const inputOnly = emptyFolderMessage(null);
    expect(inputOnly).toMatch(/^The folder gave this page no files\. It needs JPEG or PNG images in train\/NORMAL and train\/PNEUMONIA/);
    expect(inputOnly).toContain('If the images are symbolic links, copy them instead');
    expect(emptyFolderMessage(4)).toMatch(/^The folder holds 4 folders but no files the browser would hand over\./);
    expect(emptyFolderMessage(1)).toContain('holds 1 folder but');
  });

  it('names what a folder without training images held', () => {
    const { counts } = planFolder(['chest_xray/readme.md', 'chest_xray/train/NORMAL/notes.txt'], (p) => p);
    const message = noTrainingImagesMessage(counts, ['chest_xray/readme.md', 'chest_xray/train/NORMAL/notes.txt']);
    expect(message).toBe(
      'No training images found: the folder needs JPEG or PNG images in train/NORMAL and train/PNEUMONIA. ' +
        'Found 2 files (train: 0 NORMAL · 0 PNEUMONIA; test: 0 NORMAL · 0 PNEUMONIA; 2 files skipped (not images)), such as readme.md and notes.txt.',
    );
  });

  it('counts test-only images among what was found', () => {
    const { counts } = planFolder(['x/test/NORMAL/a.jpeg', 'x/test/PNEUMONIA/b.png'], (p) => p);
    expect(noTrainingImagesMessage(counts, [])).toContain('Found 2 files (train: 0 NORMAL · 0 PNEUMONIA; test: 1 NORMAL · 1 PNEUMONIA; 0 files skipped).');
    expect(noTrainingImagesMessage(emptyFolderCounts(), [])).toContain('Found 0 files');
  });

  it('names the images the browser would not open, a few and how many more', () => {
    expect(unreadableNote([])).toBe('');
    expect(unreadableNote(['a/train/NORMAL/x.jpeg'])).toBe(
      '1 image the browser would not open was left out (symbolic links or files moved since): x.jpeg. Copy images into the folder rather than linking them.',
    );
    const many = Array.from({ length: 7 }, (_, i) => `train/PNEUMONIA/p${i}.jpeg`);
    expect(unreadableNote(many)).toContain('7 images the browser would not open were left out');
    expect(nameSome(many)).toBe('p0.jpeg, p1.jpeg, p2.jpeg, p3.jpeg, p4.jpeg and 2 more');
  });
});
