import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGrayJpeg } from './support/gray-jpeg';
import { dropFolder, openClientTab, type ClientTab } from './support/client-tab';
import { hubStatus, waitUntilIdle } from './support/hub-api';

const MNIST_IN_USE = 'Still in use: the MNIST digits from the hub.';

function jpeg(seed: number): Uint8Array {
  return encodeGrayJpeg(Uint8Array.from({ length: 48 * 48 }, (_, i) => (i * 7 + seed * 31) % 256), 48, 48);
}

function write(path: string, bytes: Uint8Array | string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

/**
 * Issue 15: Chromium leaves symbolic links out of a chosen or dropped folder without a word, and a
 * folder with nothing usable gave no message at all. Each case now says what was found and what is needed,
 * and that the tab keeps its data (MNIST here).
 */
test.describe('the client tab explains folders it cannot train on', () => {
  let tab: ClientTab | undefined;
  let root = '';
  const folders = { symlinks: '', empty: '', notImages: '', mixed: '' };

  test.beforeAll(async ({ browser, request }) => {
    root = mkdtempSync(join(tmpdir(), 'fl-folders-'));
    // The real images live outside the folders the tab is given.
    const originals = join(root, 'originals');
    for (let i = 0; i < 4; i++) write(join(originals, `x${i}.jpeg`), jpeg(i));

    folders.symlinks = join(root, 'symlinks', 'chest_xray');
    for (const [split, cls, i] of [['train', 'NORMAL', 0], ['train', 'PNEUMONIA', 1], ['test', 'NORMAL', 2], ['test', 'PNEUMONIA', 3]] as const) {
      mkdirSync(join(folders.symlinks, split, cls), { recursive: true });
      symlinkSync(join(originals, `x${i}.jpeg`), join(folders.symlinks, split, cls, `x${i}.jpeg`));
    }
    folders.empty = join(root, 'empty', 'chest_xray');
    mkdirSync(folders.empty, { recursive: true });
    folders.notImages = join(root, 'not-images', 'chest_xray');
    write(join(folders.notImages, 'readme.md'), '# notes\n');
    write(join(folders.notImages, 'train', 'NORMAL', 'list.csv'), 'a,b\n');
    // Copied images train; the symlinked one and the linked folder are left out by the browser.
    folders.mixed = join(root, 'mixed', 'chest_xray');
    write(join(folders.mixed, 'train', 'NORMAL', 'n.jpeg'), jpeg(5));
    write(join(folders.mixed, 'train', 'PNEUMONIA', 'p.jpeg'), jpeg(6));
    symlinkSync(join(originals, 'x0.jpeg'), join(folders.mixed, 'train', 'NORMAL', 'linked.jpeg'));
    symlinkSync(originals, join(folders.mixed, 'train', 'PNEUMONIA', 'linked-folder'));

    await waitUntilIdle(request);
    tab = await openClientTab(browser, 'e2e-folders');
    await expect(tab.page.getByTestId('mnist-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  });

  test.afterAll(async () => {
    await tab?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function expectRefused(page: Page, message: string | RegExp, ...parts: string[]): Promise<void> {
    const error = page.getByTestId('load-error');
    await expect(error).toBeVisible({ timeout: 30_000 });
    await expect(error).toContainText(message);
    for (const part of parts) await expect(error).toContainText(part);
    await expect(page.getByTestId('data-in-use')).toHaveText(MNIST_IN_USE);
    await expect(page.getByTestId('dataset-summary')).toBeHidden();
  }

  test('a folder of symbolic links: the browser hands over no file; the tab says so and to copy instead', async () => {
    const { page } = tab!;
    await page.getByTestId('folder-input').setInputFiles(folders.symlinks);
    await expectRefused(page, 'The folder gave this page no files.', 'train/NORMAL and train/PNEUMONIA', 'If the images are symbolic links, copy them instead');
    // A drop walks the folders, so the tab can say they were there.
    await dropFolder(page, 'drop-zone', folders.symlinks);
    await expectRefused(page, 'The folder holds 7 folders but no files the browser would hand over.', 'copy them instead');
  });

  test('an empty folder says what the tab needs', async () => {
    const { page } = tab!;
    await page.getByTestId('folder-input').setInputFiles(folders.empty);
    await expectRefused(page, 'The folder gave this page no files.', 'It needs JPEG or PNG images in train/NORMAL and train/PNEUMONIA');
    await dropFolder(page, 'drop-zone', folders.empty);
    await expectRefused(page, 'The folder holds 1 folder but no files the browser would hand over.');
  });

  test('a folder of files that are not images names what it found', async () => {
    const { page } = tab!;
    await dropFolder(page, 'drop-zone', folders.notImages);
    await expectRefused(page, 'No training images found: the folder needs JPEG or PNG images in train/NORMAL and train/PNEUMONIA.', 'Found 2 files', '2 files skipped (not images)', 'readme.md', 'list.csv');
  });

  test('a folder with copied and symlinked images trains on the copies, and the summary says which data is in use', async ({ request }) => {
    const { page } = tab!;
    await page.getByTestId('folder-input').setInputFiles(folders.mixed);
    const summary = page.getByTestId('dataset-summary');
    await expect(summary).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('load-error')).toBeHidden();
    await expect(summary).toHaveAttribute('data-in-use', 'true');
    await expect(summary).toContainText('In use for training: train: 1 NORMAL · 1 PNEUMONIA');
    await expect(summary).toHaveAttribute('data-train-normal', '1');
    await expect(summary).toHaveAttribute('data-train-pneumonia', '1');
    await expect.poll(async () => (await hubStatus(request)).clients.find((c) => c.name === tab!.name)?.data).toMatchObject({ task: 'chest-xray', train: { normal: 1, pneumonia: 1 } });
    await page.getByTestId('task-mnist').check();
    await expect(summary).toContainText('Kept, not in use (training on MNIST)');
    expect(tab!.errors).toEqual([]);
  });
});
