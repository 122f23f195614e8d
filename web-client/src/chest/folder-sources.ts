/**
 * Lists the files of a chosen or dropped folder without reading them: a path and a way to open each.
 * Three ways in: showDirectoryPicker (secure contexts in Chromium), the webkitdirectory input
 * (everywhere, also plain http from another machine), and drag-and-drop entries.
 */

export interface FileSource {
  /** Relative path, e.g. "chest_xray/train/NORMAL/a.jpeg". */
  path: string;
  open(): Promise<File>;
}

/**
 * What a choice or drop gave the page. Chromium leaves symbolic links (and files under linked folders) out
 * of the input and of drops without a word (checked in Chromium 156; folder upload drops them since the
 * CVE-2022-3656 fix), so a folder of symlinks lists as empty and only the folder count says it was there.
 */
export interface FolderListing {
  sources: FileSource[];
  /** Folders walked (picker and drop); null where the browser lists files only (the input). */
  folders: number | null;
}

interface DirectoryPicker {
  showDirectoryPicker(options?: { id?: string; mode?: 'read' }): Promise<FileSystemDirectoryHandle>;
}

/** showDirectoryPicker only exists in secure contexts of Chromium browsers. */
export function canPickDirectory(): boolean {
  return window.isSecureContext && 'showDirectoryPicker' in window;
}

/** Opens the directory picker; null when the person cancels. */
export async function pickDirectory(): Promise<FolderListing | null> {
  let root: FileSystemDirectoryHandle;
  try {
    root = await (window as unknown as DirectoryPicker).showDirectoryPicker({ id: 'chest-xray', mode: 'read' });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return null;
    throw error;
  }
  const listing: Walk = { sources: [], folders: 0 };
  await walkHandle(root, root.name, listing);
  return listing;
}

/** A listing being walked: it knows its folders. */
interface Walk extends FolderListing {
  folders: number;
}

async function walkHandle(dir: FileSystemDirectoryHandle, prefix: string, listing: Walk): Promise<void> {
  listing.folders++;
  for await (const handle of dir.values()) {
    const path = `${prefix}/${handle.name}`;
    if (handle.kind === 'directory') await walkHandle(handle as FileSystemDirectoryHandle, path, listing);
    else listing.sources.push({ path, open: () => (handle as FileSystemFileHandle).getFile() });
  }
}

/** Files of a webkitdirectory input; webkitRelativePath carries the folder structure. */
export function sourcesFromFiles(files: Iterable<File>): FileSource[] {
  return Array.from(files, (file) => ({ path: file.webkitRelativePath || file.name, open: async () => file }));
}

/**
 * Files of a drop. Entries must be taken while the event is being dispatched (the
 * DataTransfer is emptied afterwards), hence the synchronous part before any await.
 */
export function sourcesFromDrop(dataTransfer: DataTransfer): Promise<FolderListing> {
  const entries = Array.from(dataTransfer.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  const files = Array.from(dataTransfer.files);
  return entries.length > 0 ? walkEntries(entries) : withoutFolders(files);
}

async function walkEntries(entries: FileSystemEntry[]): Promise<FolderListing> {
  const listing: Walk = { sources: [], folders: 0 };
  for (const entry of entries) await walkEntry(entry, listing);
  return listing;
}

async function walkEntry(entry: FileSystemEntry, listing: Walk): Promise<void> {
  if (entry.isFile) {
    const fileEntry = entry as FileSystemFileEntry;
    listing.sources.push({
      path: entry.fullPath.replace(/^\/+/, ''),
      open: () => new Promise<File>((resolve, reject) => fileEntry.file(resolve, reject)),
    });
    return;
  }
  if (!entry.isDirectory) return;
  listing.folders++;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches (Chromium: 100); only an empty batch means the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const child of batch) await walkEntry(child, listing);
  }
}

/** A dropped folder also shows up as a "file" whose reading throws NotFoundError: leave those out. */
async function withoutFolders(files: File[]): Promise<FolderListing> {
  const kept: File[] = [];
  let folders = 0;
  for (const file of files) {
    if (file.type === '' && (await isFolder(file))) folders++;
    else kept.push(file);
  }
  return { sources: sourcesFromFiles(kept), folders };
}

async function isFolder(file: File): Promise<boolean> {
  try {
    await file.slice(0, 1).arrayBuffer();
    return false;
  } catch (error) {
    return error instanceof DOMException && error.name === 'NotFoundError';
  }
}
