/** What the tab says about a chosen or dropped folder that it cannot train on, or only partly. */
import { describeFolderCounts, totalSkipped, type FolderCounts } from '@fl/shared/data/chest-xray-folder';
import { count } from './format';

const NEEDED = 'It needs JPEG or PNG images in train/NORMAL and train/PNEUMONIA (and test/NORMAL, test/PNEUMONIA for scores).';
const COPY_NOT_LINK = 'If the images are symbolic links, copy them instead: browsers leave symlinked files out of a chosen or dropped folder without saying so.';
/** Names listed in a message before "and N more". */
const NAMED = 5;

function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** "a.jpeg, b.jpeg and 3 more": the last part of each path. */
export function nameSome(paths: readonly string[], named = NAMED): string {
  const names = paths.slice(0, named).map((p) => p.split(/[\\/]/).filter(Boolean).at(-1) ?? p);
  const more = paths.length - names.length;
  if (more > 0) return `${names.join(', ')} and ${count(more)} more`;
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? '');
}

/** The browser gave no file at all: an empty folder, or one of symbolic links, which browsers drop. */
export function emptyFolderMessage(folders: number | null): string {
  const found = folders && folders > 0 ? `The folder holds ${plural(folders, 'folder')} but no files the browser would hand over.` : 'The folder gave this page no files.';
  return `${found} ${NEEDED} ${COPY_NOT_LINK}`;
}

/** Files came, but none is a training image. `examples`: some of the paths found. */
export function noTrainingImagesMessage(counts: FolderCounts, examples: readonly string[]): string {
  const images = counts.test.normal + counts.test.pneumonia + counts.val.normal + counts.val.pneumonia;
  const files = images + totalSkipped(counts) + counts.duplicates;
  const found = `Found ${plural(files, 'file')} (${describeFolderCounts(counts)})${examples.length ? `, such as ${nameSome(examples)}` : ''}.`;
  return `No training images found: the folder needs JPEG or PNG images in train/NORMAL and train/PNEUMONIA. ${found}`;
}

/** Images the browser listed and then would not open: named, since the counts alone would hide them. */
export function unreadableNote(unreadable: readonly string[]): string {
  if (unreadable.length === 0) return '';
  return `${plural(unreadable.length, 'image')} the browser would not open ${unreadable.length === 1 ? 'was' : 'were'} left out (symbolic links or files moved since): ${nameSome(unreadable)}. Copy images into the folder rather than linking them.`;
}
