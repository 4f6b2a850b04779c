// The document envelope (format v1, docs/envelope.md) in the browser, with libsodium.
//
// Byte for byte what wire/envelope.py makes and opens:
//
//   header  = "COFFRE" | 0x01 | chunk_size (uint32 BE) | secretstream header (24 B)
//   records = secretstream_push(chunk_i, ad = header[0..11], tag) ... len(chunk_i) + 17 B
//
// every record but the last holds exactly chunk_size bytes and carries TAG_MESSAGE; the
// last carries TAG_FINAL. Both directions are TransformStreams over Uint8Array pieces
// of any size, so a document is never whole in memory: the encryptor holds at most one
// chunk, the decryptor one record plus the piece that arrived.
//
// Decryption hands out each record's plaintext only once that record verified, but a
// later record can still fail: callers must not show or save anything before the
// stream closed without error (see saveVerified in ./save.js).

import sodiumModule from "libsodium-wrappers";

import { ByteSource } from "./bytes.js";

export const MAGIC = new Uint8Array([0x43, 0x4f, 0x46, 0x46, 0x52, 0x45]); // "COFFRE"
export const VERSION = 1;
export const PREFIX_SIZE = 11;
export const STREAM_HEADER_SIZE = 24;
export const HEADER_SIZE = PREFIX_SIZE + STREAM_HEADER_SIZE;
export const RECORD_OVERHEAD = 17;
export const KEY_SIZE = 32;
export const SEALED_KEY_SIZE = 80;
/** Default plaintext bytes per record, as the Python SDK (wire.envelope.CHUNK_SIZE). */
export const CHUNK_SIZE = 256 * 1024;
/** The decryptor buffers a whole record, and the size comes from an unverified header:
 * anything larger is refused so a hostile header cannot make it buffer gigabytes. */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024;

const DOCUMENT_FAILED = "document ciphertext failed verification";
const SEALED_FAILED = "sealed data key failed verification";

/** The one error every failed check raises: saying which check failed helps only an
 * attacker (as wire.errors.DecryptionError). */
export class DecryptionError extends Error {
  constructor(message = DOCUMENT_FAILED) {
    super(message);
    this.name = "DecryptionError";
  }
}

let sodium = null;

/** libsodium, once its WebAssembly module is ready (CSP: 'wasm-unsafe-eval'). */
export async function ready() {
  if (sodium === null) {
    await sodiumModule.ready;
    sodium = sodiumModule;
  }
  return sodium;
}

function loaded() {
  if (sodium === null) throw new Error("call ready() before using the envelope");
  return sodium;
}

function checkChunkSize(chunkSize) {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk_size must be between 1 and ${MAX_CHUNK_SIZE}`);
  }
}

function checkKey(key) {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) {
    throw new TypeError(`a data key is exactly ${KEY_SIZE} bytes`);
  }
}

/** Exact ciphertext size of an n-byte document (an empty one still has one record). */
export function ciphertextSize(n, chunkSize = CHUNK_SIZE) {
  checkChunkSize(chunkSize);
  const records = Math.max(1, Math.ceil(n / chunkSize));
  return HEADER_SIZE + n + records * RECORD_OVERHEAD;
}

/** The plaintext size of a v1 ciphertext of ``size`` bytes made with ``chunkSize``: the
 * exact inverse of ciphertextSize (which grows with n, so at most one n fits), or null
 * when no envelope of that chunk size is ``size`` bytes long.
 *
 * The chunk size is in the envelope's header, not in a document listing: a listing's
 * size gives the plaintext's exactly only for the chunk size assumed (the default, that
 * of every envelope the page and the Python SDK make; it was 64 KiB until 2026-11). */
export function plaintextSize(size, chunkSize = CHUNK_SIZE) {
  checkChunkSize(chunkSize);
  if (!Number.isSafeInteger(size)) return null;
  const body = size - HEADER_SIZE; // the records
  if (body < RECORD_OVERHEAD) return null; // even an empty document has one record
  const recordSize = chunkSize + RECORD_OVERHEAD;
  const full = Math.floor(body / recordSize);
  const rest = body % recordSize;
  // a document of k full chunks ends with a full final record, never an empty one
  if (rest === 0) return full * chunkSize;
  // else the last record holds rest - 17 bytes (an empty one only alone: n = 0)
  if (rest < RECORD_OVERHEAD || (rest === RECORD_OVERHEAD && full > 0)) return null;
  return full * chunkSize + rest - RECORD_OVERHEAD;
}

/** A fresh random data key (one per document version). */
export function generateDataKey() {
  return loaded().randombytes_buf(KEY_SIZE);
}

function prefixOf(chunkSize) {
  const prefix = new Uint8Array(PREFIX_SIZE);
  prefix.set(MAGIC, 0);
  prefix[6] = VERSION;
  new DataView(prefix.buffer).setUint32(7, chunkSize, false);
  return prefix;
}

/** A TransformStream: plaintext pieces of any size in, the v1 ciphertext out (the
 * header first, then one record per chunk). */
export function encryptStream(key, chunkSize = CHUNK_SIZE) {
  const s = loaded();
  checkKey(key);
  checkChunkSize(chunkSize);
  const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
  return recordsStream(state, header, chunkSize);
}

/** Like encryptStream with a chosen stream header. TESTS ONLY (the shared vector):
 * reusing a header with the same key reuses the nonce. */
export function _encryptStreamWithHeader(key, streamHeader, chunkSize = CHUNK_SIZE) {
  const s = loaded();
  checkKey(key);
  checkChunkSize(chunkSize);
  // init_pull derives exactly the state init_push would have from this header
  const state = s.crypto_secretstream_xchacha20poly1305_init_pull(streamHeader, key);
  return recordsStream(state, streamHeader, chunkSize);
}

function recordsStream(state, streamHeader, chunkSize) {
  const s = loaded();
  const prefix = prefixOf(chunkSize);
  const MESSAGE = s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  const FINAL = s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  const records = new Records(state, prefix, chunkSize);
  // A full chunk waits in `pending` until more data arrives: the last chunk, even a
  // full one, must carry TAG_FINAL, and only the end of input says which one is last.
  const pending = new Uint8Array(chunkSize);
  let filled = 0;
  // a stream's reader may keep what it is given: each record leaves as a copy
  const push = (tag) => records.push(pending.subarray(0, filled), tag).slice();
  return new TransformStream({
    start(controller) {
      const header = new Uint8Array(HEADER_SIZE);
      header.set(prefix, 0);
      header.set(streamHeader, PREFIX_SIZE);
      controller.enqueue(header);
    },
    transform(piece, controller) {
      let offset = 0;
      while (offset < piece.length) {
        if (filled === chunkSize) {
          controller.enqueue(push(MESSAGE));
          filled = 0;
        }
        const take = Math.min(chunkSize - filled, piece.length - offset);
        pending.set(piece.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
      }
    },
    flush(controller) {
      controller.enqueue(push(FINAL));
      records.free();
    },
  });
}

/** One secretstream's records sealed and opened in libsodium's own WebAssembly heap,
 * through its raw exports, in buffers allocated once per stream: the wrappers' calls
 * allocate a fresh output ArrayBuffer per record, garbage that V8 collects on its own
 * schedule (docs/web.md, "Memory"). What ``push`` and ``pull`` answer is a view of
 * that heap, valid only until the next libsodium call: copy it before anything else. */
export class Records {
  constructor(state, prefix, chunkSize) {
    const lib = loaded().libsodium;
    const alloc = (n) => {
      const at = lib._malloc(n);
      if (!at) throw new Error("out of memory");
      return at;
    };
    this.lib = lib;
    this.state = state;
    this.capacity = chunkSize + RECORD_OVERHEAD;
    this.input = alloc(this.capacity);
    this.output = alloc(this.capacity);
    this.ad = alloc(PREFIX_SIZE);
    this.tag = alloc(1);
    lib.HEAPU8.set(prefix, this.ad); // HEAPU8 is read anew each time: the heap may grow
  }

  /** Seal ``plain`` (at most chunk_size bytes) as the next record, tagged ``tag``. */
  push(plain, tag) {
    const { lib } = this;
    lib.HEAPU8.set(plain, this.input);
    const failed = lib._crypto_secretstream_xchacha20poly1305_push(
      this.state, this.output, 0, this.input, plain.length, 0, this.ad, PREFIX_SIZE, 0, tag,
    );
    if (failed) throw new Error("encryption failed");
    return lib.HEAPU8.subarray(this.output, this.output + plain.length + RECORD_OVERHEAD);
  }

  /** Open the next record, which must carry ``expected`` (TAG_FINAL too early means
   * trailing bytes; TAG_MESSAGE last means truncation); its plaintext. */
  pull(record, expected) {
    const { lib } = this;
    if (record.length < RECORD_OVERHEAD || record.length > this.capacity) throw new DecryptionError();
    lib.HEAPU8.set(record, this.input);
    const failed = lib._crypto_secretstream_xchacha20poly1305_pull(
      this.state, this.output, 0, this.tag, this.input, record.length, 0, this.ad, PREFIX_SIZE, 0,
    );
    if (failed || lib.HEAPU8[this.tag] !== expected) throw new DecryptionError();
    return lib.HEAPU8.subarray(this.output, this.output + record.length - RECORD_OVERHEAD);
  }

  /** Wipe the stream's state and plaintext buffers and give them back (idempotent). */
  free() {
    const { lib } = this;
    if (this.input === 0) return;
    const stateSize = lib._crypto_secretstream_xchacha20poly1305_statebytes();
    lib.HEAPU8.fill(0, this.state, this.state + stateSize);
    lib.HEAPU8.fill(0, this.input, this.input + this.capacity);
    lib.HEAPU8.fill(0, this.output, this.output + this.capacity);
    for (const at of [this.state, this.input, this.output, this.ad, this.tag]) lib._free(at);
    this.input = 0;
  }
}

/** The records of a new stream sealed with ``key`` (the default chunk size), and the
 * envelope's header to send before them. */
export function sealingRecords(key, chunkSize = CHUNK_SIZE) {
  const s = loaded();
  checkKey(key);
  checkChunkSize(chunkSize);
  const { state, header: streamHeader } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
  const prefix = prefixOf(chunkSize);
  const header = new Uint8Array(HEADER_SIZE);
  header.set(prefix, 0);
  header.set(streamHeader, PREFIX_SIZE);
  return { header, records: new Records(state, prefix, chunkSize) };
}

/** The records of the stream whose envelope header is ``header`` (HEADER_SIZE bytes),
 * opened with ``key``, and the size of each full record; a DecryptionError for a
 * header that is not a v1 envelope's or a key that does not fit it. */
export function openingRecords(header, key) {
  const s = loaded();
  checkKey(key);
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  const chunkSize = header.length === HEADER_SIZE ? view.getUint32(7, false) : 0;
  const magicOk = MAGIC.every((byte, i) => header[i] === byte);
  if (!magicOk || header[6] !== VERSION || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new DecryptionError();
  }
  let state;
  try {
    state = s.crypto_secretstream_xchacha20poly1305_init_pull(header.slice(PREFIX_SIZE), key);
  } catch {
    throw new DecryptionError();
  }
  const records = new Records(state, header.slice(0, PREFIX_SIZE), chunkSize);
  return { records, recordSize: chunkSize + RECORD_OVERHEAD };
}

/** The TAG_MESSAGE and TAG_FINAL of secretstream. */
export function tags() {
  const s = loaded();
  return {
    MESSAGE: s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
    FINAL: s.crypto_secretstream_xchacha20poly1305_TAG_FINAL,
  };
}

/** Encrypt a File (or Blob) into ``write``: the header, then each record as a view of
 * libsodium's heap, which ``write`` must have copied before its promise settles. The
 * file is read one chunk at a time into one reused buffer (BYOB where Chromium's Blob
 * streams allow), so nothing is allocated per record. Which record is the last comes
 * from the file's size; a file that changes size while it is read is an error. */
export async function encryptFile(file, key, write, onProgress) {
  const { MESSAGE, FINAL } = tags();
  const { header, records } = sealingRecords(key);
  const source = new ByteSource(file.stream());
  try {
    await write(header);
    let buffer = new ArrayBuffer(CHUNK_SIZE);
    let done = 0;
    for (;;) {
      const got = await source.fill(buffer, CHUNK_SIZE);
      buffer = got.buffer;
      done += got.length;
      const last = done >= file.size;
      if (done > file.size || (!last && got.length < CHUNK_SIZE)) {
        throw new Error("the file changed while it was read");
      }
      await write(records.push(new Uint8Array(buffer, 0, got.length), last ? FINAL : MESSAGE));
      if (onProgress) onProgress(done);
      if (last) break;
    }
  } finally {
    records.free();
    source.cancel();
  }
}

/** Incoming pieces, cut into records: keeps the pieces and copies exactly one
 * record's bytes out of them. */
class Pieces {
  constructor() {
    this.queue = [];
    this.size = 0;
  }

  add(piece) {
    if (piece.length) {
      this.queue.push(piece);
      this.size += piece.length;
    }
  }

  take(n) {
    const first = this.queue[0];
    if (first && first.length === n) {
      this.queue.shift();
      this.size -= n;
      return first;
    }
    // one buffer for every record of the stream: libsodium copies it into its own heap
    // before pull returns, so it is free again at once (garbage is what costs memory)
    if (this.scratch === undefined || this.scratch.length < n) this.scratch = new Uint8Array(n);
    const out = this.scratch.subarray(0, n);
    let filled = 0;
    while (filled < n) {
      const piece = this.queue[0];
      const take = Math.min(piece.length, n - filled);
      out.set(piece.subarray(0, take), filled);
      filled += take;
      if (take === piece.length) this.queue.shift();
      else this.queue[0] = piece.subarray(take);
    }
    this.size -= n;
    return out;
  }
}

/** A TransformStream: v1 ciphertext pieces of any size in, verified plaintext records
 * out. Any failure errors the stream with a DecryptionError. */
export function decryptStream(key) {
  loaded();
  checkKey(key);
  const { MESSAGE, FINAL } = tags();
  const buf = new Pieces();
  let records = null;
  let recordSize = 0;

  // a stream's reader may keep what it is given: each plaintext leaves as a copy
  function pull(record, expected) {
    try {
      return records.pull(record, expected).slice();
    } catch (error) {
      records.free();
      throw error;
    }
  }

  return new TransformStream({
    transform(piece, controller) {
      buf.add(piece);
      if (records === null) {
        if (buf.size < HEADER_SIZE) return;
        ({ records, recordSize } = openingRecords(buf.take(HEADER_SIZE), key));
      }
      // more than one record buffered: the first cannot be the last, so it must be a
      // full TAG_MESSAGE record
      while (buf.size > recordSize) controller.enqueue(pull(buf.take(recordSize), MESSAGE));
    },
    flush(controller) {
      if (records === null) throw new DecryptionError();
      // end of input: what is left must be exactly one record carrying TAG_FINAL
      controller.enqueue(pull(buf.take(buf.size), FINAL));
      records.free();
    },
  });
}

/** Open a data key sealed (crypto_box_seal) to a device's X25519 key pair. */
export function unsealDataKey(sealed, publicKey, secretKey) {
  const s = loaded();
  if (!(sealed instanceof Uint8Array) || sealed.length !== SEALED_KEY_SIZE) {
    throw new DecryptionError(SEALED_FAILED);
  }
  try {
    const key = s.crypto_box_seal_open(sealed, publicKey, secretKey);
    if (key.length !== KEY_SIZE) throw new DecryptionError(SEALED_FAILED);
    return key;
  } catch {
    throw new DecryptionError(SEALED_FAILED);
  }
}

/** Seal a data key to an X25519 public key (a deposit seals it to the space's key). */
export function sealDataKey(dataKey, publicKey) {
  checkKey(dataKey);
  return loaded().crypto_box_seal(dataKey, publicKey);
}
