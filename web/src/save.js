// Reading a document in the browser: fetch the ciphertext, check it against its
// recorded SHA-256, decrypt it as a stream, and save or open it only once the whole
// document verified (docs/envelope.md, "Decryption is streaming").
//
// Where the plaintext goes while it streams:
// - the File System Access API when the browser has it (Chromium): a file the user
//   picked, written through a FileSystemWritableFileStream, which Chromium writes to a
//   temporary ".crswap" file and moves into place only on close(); a failure aborts it,
//   so nothing lands;
// - otherwise (Firefox, Safari, or when the picker is refused) a Blob built from parts
//   of at most BLOB_PART bytes: Chromium hands large Blobs to its blob store, which
//   pages them to disk, so the page's own heap stays at about one part; the download
//   (or the opening in a new tab) is offered only after the last record verified.

import { Batch, ByteSource } from "./bytes.js";
import { checkedDigestStream, hasher } from "./digest.js";
import { DecryptionError, HEADER_SIZE, decryptStream, openingRecords, tags } from "./envelope.js";

const BLOB_PART = 16 * 1024 * 1024;
/** Plaintext gathered per write to a picked file: fewer, larger writes (each one is a
 * copy Chromium sends to its browser process), in one reused buffer. */
const FILE_WRITE = 4 * 1024 * 1024;

/** Why a read failed, in words the page shows: the only kinds a reader can act on. */
export class ReadFailure extends Error {
  constructor(code) {
    super(code);
    this.name = "ReadFailure";
    this.code = code; // "tampered" | "network" | "link-expired"
  }
}

/** A TransformStream counting bytes for a progress bar. */
export function progressStream(onProgress) {
  let done = 0;
  return new TransformStream({
    transform(piece, controller) {
      done += piece.length;
      if (onProgress) onProgress(done);
      controller.enqueue(piece);
    },
  });
}

function asBytes() {
  return new TransformStream({
    transform(piece, controller) {
      controller.enqueue(piece instanceof Uint8Array ? piece : new Uint8Array(piece));
    },
  });
}

/** The plaintext stream of a ciphertext stream: hash checked, records verified. */
export function plaintextOf(ciphertext, { sha256, dataKey, onProgress }) {
  let stream = ciphertext.pipeThrough(asBytes());
  if (onProgress) stream = stream.pipeThrough(progressStream(onProgress));
  if (sha256) {
    stream = stream.pipeThrough(checkedDigestStream(sha256, () => new DecryptionError()));
  }
  return stream.pipeThrough(decryptStream(dataKey));
}

/** Read a ciphertext stream into ``sink`` (``write(bytes)``, ``close()``, ``abort()``):
 * hash checked, records verified, in buffers reused from record to record: the
 * ciphertext is read (BYOB where the stream allows) into two record buffers, the one
 * read ahead saying whether the other is the last, and decrypted in libsodium's heap.
 * The recorded hash is checked before the last record's plaintext is written. Any
 * failure aborts the sink (nothing lands) and becomes a ReadFailure. */
export async function readInto(ciphertext, { sha256, dataKey, onProgress }, sink) {
  const source = new ByteSource(ciphertext);
  const hash = sha256 ? hasher() : null;
  const { MESSAGE, FINAL } = tags();
  let records = null;
  let done = 0;
  const read = async (buffer, n) => {
    const got = await source.fill(buffer, n);
    const bytes = new Uint8Array(got.buffer, 0, got.length);
    if (hash) hash.update(bytes);
    done += got.length;
    if (onProgress && got.length) onProgress(done);
    return bytes;
  };
  try {
    const header = await read(new ArrayBuffer(HEADER_SIZE), HEADER_SIZE);
    if (header.length < HEADER_SIZE) throw new DecryptionError();
    let recordSize;
    ({ records, recordSize } = openingRecords(header, dataKey));
    let current = await read(new ArrayBuffer(recordSize), recordSize);
    let spare = new ArrayBuffer(recordSize);
    for (;;) {
      // a full record followed by more bytes is a TAG_MESSAGE one; the last, TAG_FINAL
      const next = current.length === recordSize ? await read(spare, recordSize) : new Uint8Array(0);
      const last = next.length === 0;
      if (last && hash && hash.hex() !== String(sha256).toLowerCase()) throw new DecryptionError();
      await sink.write(records.pull(current, last ? FINAL : MESSAGE));
      if (last) break;
      spare = current.buffer;
      current = next;
    }
    await sink.close();
  } catch (error) {
    await Promise.resolve(sink.abort()).catch(() => {});
    if (error instanceof DecryptionError) throw new ReadFailure("tampered");
    throw new ReadFailure("network");
  } finally {
    if (records) records.free();
    source.cancel();
  }
}

/** A sink (for readInto and encryptFile) writing to a picked file, through one reused
 * buffer: Chromium writes to a temporary file and moves it into place only on close;
 * abort leaves nothing. */
export function fileSink(writable) {
  const writer = writable.getWriter();
  const batch = new Batch(FILE_WRITE, (bytes) => writer.write(bytes));
  return {
    write: (bytes) => batch.add(bytes),
    async close() {
      await batch.end();
      await writer.close();
    },
    abort: () => writer.abort(),
  };
}

/** A sink (for readInto and encryptFile) keeping the bytes as a Blob, built from parts
 * of BLOB_PART bytes copied out of one reused buffer (the Blob constructor copies);
 * the Blob (``blob()``) exists only once the sink closed. */
export function blobWriter(type = "application/octet-stream") {
  let blobs = [];
  let result = null;
  const batch = new Batch(BLOB_PART, async (bytes) => {
    blobs.push(new Blob([bytes]));
  });
  return {
    write: (bytes) => batch.add(bytes),
    async close() {
      await batch.end();
      result = new Blob(blobs, { type });
      blobs = [];
    },
    abort() {
      blobs = [];
    },
    blob() {
      return result;
    },
  };
}

/** A sink that keeps the plaintext as a Blob, offered only once complete. */
export function blobSink(type = "application/octet-stream") {
  const blobs = [];
  let parts = [];
  let held = 0;
  let result = null;
  const flushParts = () => {
    if (parts.length) blobs.push(new Blob(parts));
    parts = [];
    held = 0;
  };
  return {
    writable: new WritableStream({
      write(piece) {
        parts.push(piece);
        held += piece.length;
        if (held >= BLOB_PART) flushParts();
      },
      close() {
        flushParts();
        result = new Blob(blobs, { type });
      },
      abort() {
        blobs.length = 0;
        parts = [];
      },
    }),
    blob() {
      return result;
    },
  };
}

/** Pipe the plaintext into a sink; any failure becomes a ReadFailure and leaves
 * nothing behind (the sink is aborted). */
export async function drain(plaintext, writable) {
  try {
    await plaintext.pipeTo(writable);
  } catch (error) {
    if (error instanceof DecryptionError) throw new ReadFailure("tampered");
    throw new ReadFailure("network");
  }
}

/** Offer a verified Blob as a download named `filename`. */
export function offerDownload(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file the user picks (File System Access API), or null where there is none. Must
 * run in the click's user activation, before any network wait. */
export async function pickFile(filename) {
  if (typeof window.showSaveFilePicker !== "function") return null;
  try {
    const handle = await window.showSaveFilePicker({ suggestedName: filename });
    return await handle.createWritable();
  } catch {
    return null; // refused or unavailable: fall back to the Blob
  }
}
