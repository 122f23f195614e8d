import {
  countUndecodable,
  planFolder,
  type ChestLabel,
  type FolderCounts,
  type FolderPlan,
} from '@fl/shared/data/chest-xray-folder';
import type { ChestImages } from '@fl/shared/data/chest-xray-dataset';
import { GrayscaleResizer } from './grayscale-resizer';

/** One file of a folder: its relative path and a way to get its bytes. */
export interface FileSource {
  /** Relative path, e.g. "chest_xray/train/NORMAL/a.jpeg". */
  path: string;
  open(): Promise<Blob>;
}

/** A loaded folder: only bytes and labels, never the files. */
export interface ChestFolderData {
  train: ChestImages;
  test: ChestImages;
  counts: FolderCounts;
  /** Paths of images the browser would not hand over (counted as not decodable in `counts`). */
  unreadable: string[];
}

export interface LoadProgress {
  done: number;
  total: number;
}

export interface LoadOptions {
  imageSize: number;
  /** Decodes in flight at once; more only adds memory for full-size bitmaps. */
  concurrency?: number;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

interface SplitBuffer {
  pixels: Uint8Array;
  labels: Uint8Array;
  decoded: Uint8Array;
}

function splitBuffer(count: number, area: number): SplitBuffer {
  return { pixels: new Uint8Array(count * area), labels: new Uint8Array(count), decoded: new Uint8Array(count) };
}

/** Drops the slots of images that failed to decode, keeping order. */
function compact(buffer: SplitBuffer, imageSize: number): ChestImages {
  const area = imageSize * imageSize;
  const keep = buffer.decoded.reduce((n, ok) => n + ok, 0);
  if (keep === buffer.labels.length) return { pixels: buffer.pixels, labels: buffer.labels, imageSize };
  const pixels = new Uint8Array(keep * area);
  const labels = new Uint8Array(keep);
  for (let i = 0, k = 0; i < buffer.labels.length; i++) {
    if (!buffer.decoded[i]) continue;
    pixels.set(buffer.pixels.subarray(i * area, (i + 1) * area), k * area);
    labels[k++] = buffer.labels[i]!;
  }
  return { pixels, labels, imageSize };
}

/** Which of the files are images to decode, and the counts their paths promise. */
export function planChestFolder<T extends FileSource>(sources: readonly T[]): FolderPlan<T> {
  return planFolder(sources, (s) => s.path);
}

/** Classifies the files by path, then decodes the chosen images a few at a time. */
export async function loadChestFolder(sources: readonly FileSource[], options: LoadOptions): Promise<ChestFolderData> {
  return decodeChestFolder(planChestFolder(sources), options);
}

/** Decodes a planned folder's images a few at a time, in plan order. */
export async function decodeChestFolder(plan: FolderPlan<FileSource>, options: LoadOptions): Promise<ChestFolderData> {
  const { imageSize, concurrency = 4, onProgress, signal } = options;
  const area = imageSize * imageSize;
  const { images, counts } = plan;
  const buffers = {
    train: splitBuffer(counts.train.normal + counts.train.pneumonia, area),
    test: splitBuffer(counts.test.normal + counts.test.pneumonia, area),
  };
  const slots = { train: 0, test: 0 };
  const jobs = images.map(({ item, split, label }) => ({ source: item, split, label, slot: slots[split]++ }));
  const resizer = new GrayscaleResizer(imageSize);
  const failed: Array<{ split: 'train' | 'test'; label: ChestLabel }> = [];
  const unreadable: string[] = [];
  let next = 0;
  let done = 0;
  onProgress?.({ done, total: jobs.length });

  async function lane(): Promise<void> {
    while (next < jobs.length) {
      signal?.throwIfAborted();
      const job = jobs[next++]!;
      const buffer = buffers[job.split];
      buffer.labels[job.slot] = job.label;
      let ok = false;
      let file: Blob | null = null;
      try {
        file = await job.source.open();
      } catch {
        // A file the browser would not open counts like one that cannot be decoded, and is named.
        if (!signal?.aborted) unreadable.push(job.source.path);
      }
      signal?.throwIfAborted();
      if (file) {
        try {
          ok = await resizer.decodeInto(file, buffer.pixels, job.slot * area);
        } catch {
          ok = false;
        }
      }
      if (ok) buffer.decoded[job.slot] = 1;
      else failed.push({ split: job.split, label: job.label });
      onProgress?.({ done: ++done, total: jobs.length });
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  for (const f of failed) countUndecodable(counts, f.split, f.label);
  return { train: compact(buffers.train, imageSize), test: compact(buffers.test, imageSize), counts, unreadable };
}
