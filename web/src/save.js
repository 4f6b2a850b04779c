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

import { checkedDigestStream } from "./digest.js";
import { DecryptionError, decryptStream } from "./envelope.js";

const BLOB_PART = 16 * 1024 * 1024;

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
