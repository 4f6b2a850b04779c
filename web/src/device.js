// This browser's reader device: an Ed25519 key generated here, kept in IndexedDB,
// never sent anywhere (client/readerkey.py's counterpart). Its X25519 form
// (crypto_sign_ed25519_pk_to_curve25519) is the key data keys are resealed to on a read.
//
// What libsodium forces: it works on raw key bytes, so the device's 32-byte seed cannot
// be a non-extractable WebCrypto key (WebCrypto's Ed25519 and X25519 keys are separate,
// and the server derives the reader key from the signing key, so one secret must do
// both). The seed is therefore stored wrapped (AES-GCM) under a non-extractable
// WebCrypto key kept next to it in IndexedDB: reading the database's files or copying
// its records out gives no usable seed; a script running in the page can still use the
// device (as it can use the page itself), which the CSP is there to prevent. The seed
// is unwrapped only while signing or unsealing and the bytes are wiped afterwards.

import { ready, reader } from "./keys.js";

const DB_NAME = "coffre";
const STORE = "devices";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** A device of one actor (role and id): its public keys, and the only two things its
 * secret is used for, signing and unsealing. */
export class Device {
  constructor(record) {
    this.record = record;
    this.keyId = record.keyId;
    this.signingKey = record.signingKey; // base64 Ed25519 public key
    this.publicKey = record.publicKey; // base64 X25519 public key
  }

  async seed() {
    const { wrapKey, iv, wrapped } = this.record;
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, wrapKey, wrapped));
  }

  /** The detached Ed25519 signature of `message` (bytes). */
  async sign(message) {
    return this.withKeys((keys) => keys.sign(message));
  }

  /** Open a data key sealed to this device. */
  async unseal(sealed) {
    return this.withKeys((keys) => keys.unseal(sealed));
  }

  async withKeys(use) {
    // the seed exists unwrapped only for this one use
    const seed = await this.seed();
    try {
      return use(reader(await ready(), seed));
    } finally {
      seed.fill(0);
    }
  }
}

function slot(role, actorId) {
  return `${role}:${actorId}`;
}

/** This browser's device for an actor, or null. */
export async function loadDevice(role, actorId) {
  const record = await withStore("readonly", (store) => store.get(slot(role, actorId)));
  return record ? new Device(record) : null;
}

/** A new device key for an actor, stored (replacing any other for that actor). */
export async function createDevice(role, actorId) {
  const sodium = await ready();
  const seed = sodium.randombytes_buf(32);
  const keys = reader(sodium, seed);
  const wrapKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, wrapKey, seed);
  seed.fill(0);
  const record = {
    keyId: keys.keyId,
    signingKey: keys.signingKey,
    publicKey: keys.publicKey,
    wrapKey,
    iv,
    wrapped: new Uint8Array(wrapped),
  };
  await withStore("readwrite", (store) => store.put(record, slot(role, actorId)));
  return new Device(record);
}

/** Forget this browser's device for an actor (after it was revoked). */
export async function forgetDevice(role, actorId) {
  await withStore("readwrite", (store) => store.delete(slot(role, actorId)));
}
