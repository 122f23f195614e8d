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

interface DirectoryPicker {
  showDirectoryPicker(options?: { id?: string; mode?: 'read' }): Promise<FileSystemDirectoryHandle>;
}

/** showDirectoryPicker only exists in secure contexts of Chromium browsers. */
export function canPickDirectory(): boolean {
  return window.isSecureContext && 'showDirectoryPicker' in window;
}

/** Opens the directory picker; null when the person cancels. */
export async function pickDirectory(): Promise<FileSource[] | null> {
  let root: FileSystemDirectoryHandle;
  try {
    root = await (window as unknown as DirectoryPicker).showDirectoryPicker({ id: 'chest-xray', mode: 'read' });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return null;
    throw error;
  }
  const out: FileSource[] = [];
  await walkHandle(root, root.name, out);
  return out;
}

async function walkHandle(dir: FileSystemDirectoryHandle, prefix: string, out: FileSource[]): Promise<void> {
  for await (const handle of dir.values()) {
    const path = `${prefix}/${handle.name}`;
    if (handle.kind === 'directory') await walkHandle(handle as FileSystemDirectoryHandle, path, out);
    else out.push({ path, open: () => (handle as FileSystemFileHandle).getFile() });
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
export function sourcesFromDrop(dataTransfer: DataTransfer): Promise<FileSource[]> {
  const entries = Array.from(dataTransfer.items)
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry())
    .filter((entry): entry is FileSystemEntry => entry !== null);
  const files = Array.from(dataTransfer.files);
  return entries.length > 0 ? walkEntries(entries) : withoutFolders(files);
}

async function walkEntries(entries: FileSystemEntry[]): Promise<FileSource[]> {
  const out: FileSource[] = [];
  for (const entry of entries) await walkEntry(entry, out);
  return out;
}

async function walkEntry(entry: FileSystemEntry, out: FileSource[]): Promise<void> {
  if (entry.isFile) {
    const fileEntry = entry as FileSystemFileEntry;
    out.push({
      path: entry.fullPath.replace(/^\/+/, ''),
      open: () => new Promise<File>((resolve, reject) => fileEntry.file(resolve, reject)),
    });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches (Chromium: 100); only an empty batch means the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const child of batch) await walkEntry(child, out);
  }
}

/** A dropped folder also shows up as a "file" whose reading throws NotFoundError: leave those out. */
async function withoutFolders(files: File[]): Promise<FileSource[]> {
  const kept: File[] = [];
  for (const file of files) {
    if (file.type === '' && (await isFolder(file))) continue;
    kept.push(file);
  }
  return sourcesFromFiles(kept);
}

async function isFolder(file: File): Promise<boolean> {
  try {
    await file.slice(0, 1).arrayBuffer();
    return false;
  } catch (error) {
    return error instanceof DOMException && error.name === 'NotFoundError';
  }
}
