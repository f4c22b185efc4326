/**
 * A minimal POSIX ustar writer: regular files and folders, fixed owner and time, so the same
 * entries always give the same bytes (and so the same digest). It serves the client check's
 * image layer and the stand-in installer bundle; neither needs links, long names or metadata.
 */

export interface TarEntry {
  /** Relative, '/'-separated; a folder's path may end with '/'. */
  readonly path: string;
  /** Absent for a folder. */
  readonly content?: Buffer | string;
  /** Permission bits; 0o644 for files and 0o755 for folders by default. */
  readonly mode?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, the form GNU tar and Go's archive/tar both read.
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** ustar keeps a path in `prefix` (155) + '/' + `name` (100); split at a '/' that fits both. */
export function splitTarPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let cut = path.indexOf("/"); cut > 0; cut = path.indexOf("/", cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") {
      return { prefix, name };
    }
  }
  throw new RangeError(`tar path too long for ustar: ${path}`);
}

function header(path: string, size: number, mode: number, folder: boolean): Buffer {
  const block = Buffer.alloc(BLOCK, 0);
  const { prefix, name } = splitTarPath(path);
  block.write(name, 0, 100, "utf8");
  block.write(octal(mode & 0o7777, 8), 100, 8, "ascii");
  block.write(octal(0, 8), 108, 8, "ascii"); // uid
  block.write(octal(0, 8), 116, 8, "ascii"); // gid
  block.write(octal(size, 12), 124, 12, "ascii");
  block.write(octal(0, 12), 136, 12, "ascii"); // mtime: the epoch, for reproducible bytes
  block.write("        ", 148, 8, "ascii"); // checksum field counts as spaces while summing
  block.write(folder ? "5" : "0", 156, 1, "ascii");
  block.write("ustar\0", 257, 6, "ascii");
  block.write("00", 263, 2, "ascii");
  block.write("root", 265, 32, "ascii");
  block.write("root", 297, 32, "ascii");
  block.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return block;
}

/** The archive's bytes: each entry's header and padded content, then two zero blocks. */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const folder = entry.content === undefined;
    const path = folder && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
    const content = folder ? Buffer.alloc(0) : Buffer.from(entry.content ?? "");
    parts.push(header(path, content.length, entry.mode ?? (folder ? 0o755 : 0o644), folder));
    if (content.length > 0) {
      parts.push(content, Buffer.alloc((BLOCK - (content.length % BLOCK)) % BLOCK, 0));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK, 0));
  return Buffer.concat(parts);
}
