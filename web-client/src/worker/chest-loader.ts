import {
  countUndecodable,
  planFolder,
  type ChestLabel,
  type FolderCounts,
} from '@fl/shared/data/chest-xray-folder';
import type { ChestImages } from '@fl/shared/data/chest-xray-dataset';
import { GrayscaleResizer } from './grayscale-resizer';
import type { FileSource } from './folder-sources';

/** A loaded folder: only bytes and labels, never the files. */
export interface ChestFolderData {
  train: ChestImages;
  test: ChestImages;
  counts: FolderCounts;
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

/** Classifies the files by path, then decodes the chosen images a few at a time. */
export async function loadChestFolder(sources: readonly FileSource[], options: LoadOptions): Promise<ChestFolderData> {
  const { imageSize, concurrency = 4, onProgress, signal } = options;
  const area = imageSize * imageSize;
  const { images, counts } = planFolder(sources, (s) => s.path);
  const buffers = {
    train: splitBuffer(counts.train.normal + counts.train.pneumonia, area),
    test: splitBuffer(counts.test.normal + counts.test.pneumonia, area),
  };
  const slots = { train: 0, test: 0 };
  const jobs = images.map(({ item, split, label }) => ({ source: item, split, label, slot: slots[split]++ }));
  const resizer = new GrayscaleResizer(imageSize);
  const failed: Array<{ split: 'train' | 'test'; label: ChestLabel }> = [];
  let next = 0;
  let done = 0;
  onProgress?.({ done, total: jobs.length });

  async function lane(): Promise<void> {
    while (next < jobs.length) {
      signal?.throwIfAborted();
      const job = jobs[next++]!;
      const buffer = buffers[job.split];
      buffer.labels[job.slot] = job.label;
      let ok: boolean;
      try {
        ok = await resizer.decodeInto(await job.source.open(), buffer.pixels, job.slot * area);
      } catch {
        ok = false; // a file that vanished or cannot be read counts like one that cannot be decoded
      }
      if (ok) buffer.decoded[job.slot] = 1;
      else failed.push({ split: job.split, label: job.label });
      onProgress?.({ done: ++done, total: jobs.length });
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  for (const f of failed) countUndecodable(counts, f.split, f.label);
  return { train: compact(buffers.train, imageSize), test: compact(buffers.test, imageSize), counts };
}
