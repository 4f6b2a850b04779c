// A streaming SHA-256 (the recorded hash of a ciphertext, and the tests' checks):
// WebCrypto only hashes whole buffers, which a 500 MiB document must never be.

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** A pass-through TransformStream that hashes what flows through it; `hex()` gives
 * the digest once the stream closed. */
export function digestStream() {
  const hash = sha256.create();
  let digest = null;
  const stream = new TransformStream({
    transform(piece, controller) {
      hash.update(piece);
      controller.enqueue(piece);
    },
    flush() {
      digest = bytesToHex(hash.digest());
    },
  });
  return {
    stream,
    hex() {
      if (digest === null) throw new Error("the stream has not finished");
      return digest;
    },
  };
}

/** A TransformStream that hashes and checks, before passing on the last piece, that
 * the whole stream has the expected SHA-256 (hex): a ciphertext that is not the one
 * recorded never reaches the decryptor's final record. */
export function checkedDigestStream(expectedHex, error) {
  const hash = sha256.create();
  let held = null;
  return new TransformStream({
    transform(piece, controller) {
      hash.update(piece);
      if (held !== null) controller.enqueue(held);
      held = piece;
    },
    flush(controller) {
      if (bytesToHex(hash.digest()) !== String(expectedHex).toLowerCase()) throw error();
      if (held !== null) controller.enqueue(held);
    },
  });
}

/** A streaming SHA-256 fed piece by piece: ``update(bytes)`` (it copies nothing it
 * keeps: a view of a reused buffer is fine), then ``hex()``. */
export function hasher() {
  const hash = sha256.create();
  return {
    update(piece) {
      hash.update(piece);
    },
    hex() {
      return bytesToHex(hash.digest());
    },
  };
}
