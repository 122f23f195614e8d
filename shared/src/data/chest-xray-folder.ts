/**
 * Classifies the files of a picked or dropped Chest X-Ray folder by path alone.
 *
 * The Kaggle zip is messy: the dataset sits under chest_xray/ and again under
 * chest_xray/chest_xray/, macOS adds __MACOSX/ and .DS_Store, and val/ holds 16
 * images. Split (train/test/val) and class (NORMAL/PNEUMONIA) folders are found
 * case-insensitively wherever they are in the path; the path from the split
 * folder on ("train/NORMAL/x.jpeg") identifies an image, so copies count once.
 * Pure: no DOM, no Node, so it runs in tabs and in tests alike.
 */
import type { ClassCounts } from '../contract';

export type ChestSplit = 'train' | 'test' | 'val';
/** Class index as the model sees it: 1 = PNEUMONIA is the positive class. */
export type ChestLabel = 0 | 1;

/** Why a file is not used. Duplicates and val/ images are reported apart from these. */
export type SkipReason = 'metadata' | 'not-image' | 'outside-split' | 'undecodable';

export type PathVerdict =
  | { kind: 'image'; split: ChestSplit; label: ChestLabel; key: string }
  | { kind: 'skipped'; reason: Exclude<SkipReason, 'undecodable'> };

const IMAGE_EXTENSION = /\.(jpe?g|png)$/i;
const SPLITS: Record<string, ChestSplit> = { train: 'train', test: 'test', val: 'val' };
const CLASSES: Record<string, ChestLabel> = { normal: 0, pneumonia: 1 };
const CLASS_NAMES = ['NORMAL', 'PNEUMONIA'] as const;

/** Splits a relative path ("a/b/c.jpeg", "/a/b", "a\\b") into its non-empty segments. */
export function pathSegments(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s.length > 0);
}

function isMetadata(segment: string): boolean {
  return segment.startsWith('.') || segment.toLowerCase() === '__macosx';
}

/** Where one file belongs, from its relative path. */
export function classifyPath(path: string): PathVerdict {
  const segments = pathSegments(path);
  const file = segments.at(-1);
  if (!file) return { kind: 'skipped', reason: 'not-image' };
  if (segments.some(isMetadata)) return { kind: 'skipped', reason: 'metadata' };
  if (!IMAGE_EXTENSION.test(file)) return { kind: 'skipped', reason: 'not-image' };
  const folders = segments.slice(0, -1).map((s) => s.toLowerCase());
  // The innermost split folder wins, so a parent folder that happens to be called "test" does not.
  let splitAt = -1;
  for (let i = folders.length - 1; i >= 0 && splitAt < 0; i--) if (folders[i]! in SPLITS) splitAt = i;
  if (splitAt < 0) return { kind: 'skipped', reason: 'outside-split' };
  let classAt = -1;
  for (let i = folders.length - 1; i > splitAt && classAt < 0; i--) if (folders[i]! in CLASSES) classAt = i;
  if (classAt < 0) return { kind: 'skipped', reason: 'outside-split' };
  const split = SPLITS[folders[splitAt]!]!;
  const label = CLASSES[folders[classAt]!]!;
  const key = [split, CLASS_NAMES[label], ...segments.slice(classAt + 1)].join('/');
  return { kind: 'image', split, label, key };
}

export type SkipCounts = Record<SkipReason, number>;

export interface FolderCounts {
  train: ClassCounts;
  test: ClassCounts;
  /** Found, not used for training or testing. */
  val: ClassCounts;
  skipped: SkipCounts;
  /** Second copies of an image already counted (the Kaggle zip's nested chest_xray/chest_xray). */
  duplicates: number;
}

export interface FolderPlan<T> {
  /** The images to decode, each once, in input order. */
  images: Array<{ item: T; split: 'train' | 'test'; label: ChestLabel; key: string }>;
  counts: FolderCounts;
}

export function emptyFolderCounts(): FolderCounts {
  return {
    train: { normal: 0, pneumonia: 0 },
    test: { normal: 0, pneumonia: 0 },
    val: { normal: 0, pneumonia: 0 },
    skipped: { metadata: 0, 'not-image': 0, 'outside-split': 0, undecodable: 0 },
    duplicates: 0,
  };
}

function bump(counts: ClassCounts, label: ChestLabel): void {
  if (label === 1) counts.pneumonia++;
  else counts.normal++;
}

/**
 * Decides which files to decode. Counts are what the paths promise; a caller that then
 * fails to decode an image moves it with `countUndecodable`.
 */
export function planFolder<T>(items: Iterable<T>, pathOf: (item: T) => string): FolderPlan<T> {
  const counts = emptyFolderCounts();
  const images: FolderPlan<T>['images'] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const verdict = classifyPath(pathOf(item));
    if (verdict.kind === 'skipped') {
      counts.skipped[verdict.reason]++;
      continue;
    }
    if (seen.has(verdict.key)) {
      counts.duplicates++;
      continue;
    }
    seen.add(verdict.key);
    if (verdict.split === 'val') {
      bump(counts.val, verdict.label);
      continue;
    }
    bump(counts[verdict.split], verdict.label);
    images.push({ item, split: verdict.split, label: verdict.label, key: verdict.key });
  }
  return { images, counts };
}

/** Moves an image that failed to decode from its split's count to the skipped ones. */
export function countUndecodable(counts: FolderCounts, split: 'train' | 'test', label: ChestLabel): void {
  const classCounts = counts[split];
  if (label === 1) classCounts.pneumonia = Math.max(0, classCounts.pneumonia - 1);
  else classCounts.normal = Math.max(0, classCounts.normal - 1);
  counts.skipped.undecodable++;
}

export function totalSkipped(counts: FolderCounts): number {
  const s = counts.skipped;
  return s.metadata + s['not-image'] + s['outside-split'] + s.undecodable;
}

const SKIP_WORDS: Record<SkipReason, string> = {
  metadata: 'hidden or macOS metadata',
  'not-image': 'not images',
  'outside-split': 'outside train/ or test/ class folders',
  undecodable: 'could not be decoded',
};

/**
 * One line for people, e.g.
 * "train: 1,341 NORMAL · 3,875 PNEUMONIA; test: 234 NORMAL · 390 PNEUMONIA; 12 files skipped (not images)".
 */
export function describeFolderCounts(counts: FolderCounts, locale = 'en-US'): string {
  const n = (value: number) => value.toLocaleString(locale);
  const split = (name: string, c: ClassCounts) => `${name}: ${n(c.normal)} NORMAL · ${n(c.pneumonia)} PNEUMONIA`;
  const parts = [split('train', counts.train), split('test', counts.test)];
  if (counts.val.normal + counts.val.pneumonia > 0) parts.push(`${split('val', counts.val)} (not used)`);
  const skipped = totalSkipped(counts);
  const reasons = (Object.keys(SKIP_WORDS) as SkipReason[])
    .filter((r) => counts.skipped[r] > 0)
    .map((r) => (skipped === counts.skipped[r] ? SKIP_WORDS[r] : `${n(counts.skipped[r])} ${SKIP_WORDS[r]}`));
  parts.push(`${n(skipped)} ${skipped === 1 ? 'file' : 'files'} skipped${reasons.length ? ` (${reasons.join(', ')})` : ''}`);
  if (counts.duplicates > 0) parts.push(`${n(counts.duplicates)} duplicate ${counts.duplicates === 1 ? 'copy' : 'copies'} counted once`);
  return parts.join('; ');
}
