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
  // A full chunk waits in `pending` until more data arrives: the last chunk, even a
  // full one, must carry TAG_FINAL, and only the end of input says which one is last.
  const pending = new Uint8Array(chunkSize);
  let filled = 0;
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
          controller.enqueue(s.crypto_secretstream_xchacha20poly1305_push(state, pending, prefix, MESSAGE));
          filled = 0;
        }
        const take = Math.min(chunkSize - filled, piece.length - offset);
        pending.set(piece.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
      }
    },
    flush(controller) {
      controller.enqueue(
        s.crypto_secretstream_xchacha20poly1305_push(state, pending.subarray(0, filled), prefix, FINAL),
      );
    },
  });
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
  const s = loaded();
  checkKey(key);
  const MESSAGE = s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  const FINAL = s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  const buf = new Pieces();
  let state = null;
  let prefix = null;
  let recordSize = 0;

  function pull(record, expected) {
    if (record.length < RECORD_OVERHEAD) throw new DecryptionError();
    const opened = s.crypto_secretstream_xchacha20poly1305_pull(state, record, prefix);
    // TAG_FINAL too early means trailing bytes; TAG_MESSAGE last means truncation
    if (!opened || opened.tag !== expected) throw new DecryptionError();
    return opened.message;
  }

  function start() {
    const header = buf.take(HEADER_SIZE);
    const view = new DataView(header.buffer, header.byteOffset, header.length);
    const chunkSize = view.getUint32(7, false);
    const magicOk = MAGIC.every((byte, i) => header[i] === byte);
    if (!magicOk || header[6] !== VERSION || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
      throw new DecryptionError();
    }
    prefix = header.slice(0, PREFIX_SIZE);
    try {
      state = s.crypto_secretstream_xchacha20poly1305_init_pull(header.slice(PREFIX_SIZE), key);
    } catch {
      throw new DecryptionError();
    }
    recordSize = chunkSize + RECORD_OVERHEAD;
  }

  return new TransformStream({
    transform(piece, controller) {
      buf.add(piece);
      if (state === null) {
        if (buf.size < HEADER_SIZE) return;
        start();
      }
      // more than one record buffered: the first cannot be the last, so it must be a
      // full TAG_MESSAGE record
      while (buf.size > recordSize) controller.enqueue(pull(buf.take(recordSize), MESSAGE));
    },
    flush(controller) {
      if (state === null) throw new DecryptionError();
      // end of input: what is left must be exactly one record carrying TAG_FINAL
      controller.enqueue(pull(buf.take(buf.size), FINAL));
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
