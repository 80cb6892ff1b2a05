/** A byte range of one file: a text-file partition owns the lines that start inside [start, end). */
export interface FileSplit {
  /** An absolute path on the driver's machine, or an http(s) URL. */
  path: string;
  start: number;
  end: number;
  /**
   * File size when the split was planned; a reader that sees another size reports the change.
   * -1 for a URL whose server named no size (then it is one split read whole).
   */
  fileSize: number;
  /**
   * Modification time of a local file at planning: an executor that sees the same size and mtime
   * under the same path may read its own copy instead of asking the driver's file server.
   */
  mtimeMs?: number;
  /** A URL's validator at planning (its ETag, else its Last-Modified); a read that sees another fails. */
  version?: string;
}

/** Whether a planned path names an HTTP(S) resource rather than a file of the driver. */
export function isUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}
