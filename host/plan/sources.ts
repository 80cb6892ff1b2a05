/** A byte range of one file: a text-file partition owns the lines that start inside [start, end). */
export interface FileSplit {
  path: string;
  start: number;
  end: number;
  /** File size when the split was planned; a reader that sees another size reports the change. */
  fileSize: number;
}
