// A device seed's keys with libsodium, as client/readerkey.py and wire/devices.py: the
// Ed25519 key pair of the seed, its X25519 form, the key id the server knows it by, and
// the messages a device signs (a context line and canonical JSON).

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

import { ready as envelopeReady, unsealDataKey } from "./envelope.js";

export const ready = envelopeReady;

const PROOF_CONTEXT = "coffre-device-proof-v1";
const APPROVAL_CONTEXT = "coffre-device-approval-v1";

/** Standard base64 of bytes. */
export function b64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** Bytes of standard base64. */
export function unb64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** A reader key id: the first 32 hex digits of the SHA-256 of the X25519 public key. */
export function readerKeyId(publicKey) {
  return bytesToHex(sha256(publicKey)).slice(0, 32);
}

/** The keys of a 32-byte seed; the secrets stay inside the returned functions. */
export function reader(sodium, seed) {
  const pair = sodium.crypto_sign_seed_keypair(seed);
  const x25519Public = sodium.crypto_sign_ed25519_pk_to_curve25519(pair.publicKey);
  return {
    keyId: readerKeyId(x25519Public),
    signingKey: b64(pair.publicKey),
    publicKey: b64(x25519Public),
    sign(message) {
      try {
        return sodium.crypto_sign_detached(message, pair.privateKey);
      } finally {
        pair.privateKey.fill(0);
      }
    },
    unseal(sealed) {
      const secret = sodium.crypto_sign_ed25519_sk_to_curve25519(pair.privateKey);
      try {
        return unsealDataKey(sealed, x25519Public, secret);
      } finally {
        secret.fill(0);
        pair.privateKey.fill(0);
      }
    },
  };
}

function canonicalJson(fields) {
  // sorted keys, no spaces, UTF-8 kept as is: wire.checkpoint.canonical_json
  const sorted = Object.keys(fields).sort();
  return `{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(fields[k])}`).join(",")}}`;
}

/** What a device signs to prove it holds its key (wire.devices.proof_message). */
export function proofMessage(challenge, role, actorId, signingKey, name) {
  const fields = { challenge, role, id: actorId, signing_key: signingKey, name };
  return new TextEncoder().encode(`${PROOF_CONTEXT}\n${canonicalJson(fields)}`);
}

/** What an approved device signs to approve another (wire.devices.approval_message). */
export function approvalMessage(role, actorId, keyId, publicKey, signingKey) {
  const fields = { role, id: actorId, key_id: keyId, public_key: publicKey, signing_key: signingKey };
  return new TextEncoder().encode(`${APPROVAL_CONTEXT}\n${canonicalJson(fields)}`);
}
