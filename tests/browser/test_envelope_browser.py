"""The envelope in the browser (web/src/envelope.js) against the Python reference
(wire/envelope.py), byte for byte: the shared vector, then documents of the sizes that
matter made on one side and opened on the other, compared by SHA-256 (never whole
buffers over the Playwright bridge), up to 50 MiB streamed to and from the page.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import Files, browser_rss, peak_growth
from wire.envelope import CHUNK_SIZE, DataKey, ciphertext_size, decrypt, encrypt, seal

VECTOR = Path(__file__).resolve().parents[1] / "keys" / "vectors" / "envelope_v1.json"
MIB = 1024 * 1024

SIZES = {
    "0 B": 0,
    "1 B": 1,
    "one record - 1": CHUNK_SIZE - 1,
    "one record": CHUNK_SIZE,
    "one record + 1": CHUNK_SIZE + 1,
}

# Imports the page's own modules (allowed by the CSP: same origin), so the code under
# test is the code the page runs.
MODULES = """
const env = await import('/envelope.js');
const save = await import('/save.js');
const digest = await import('/digest.js');
await env.ready();
const bytes = (hex) => Uint8Array.from((hex.match(/../g) || []).map((h) => parseInt(h, 16)));
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
"""

DECRYPT = (
    "async ({url, key}) => {"
    + MODULES
    + """
    const response = await fetch(url);
    const hashed = digest.digestStream();
    let size = 0;
    const count = new WritableStream({ write(piece) { size += piece.length; } });
    try {
      await save.plaintextOf(response.body, { dataKey: bytes(key) })
        .pipeThrough(hashed.stream).pipeTo(count);
    } catch (error) {
      return { error: error.name, message: error.message };
    }
    return { sha256: hashed.hex(), size };
    }"""
)

ENCRYPT = (
    "async ({plainUrl, sinkUrl, key}) => {"
    + MODULES
    + """
    const response = await fetch(plainUrl);
    const reader = response.body.pipeThrough(env.encryptStream(bytes(key))).getReader();
    // pieces go back in order, about 4 MiB per request (no streaming uploads over HTTP/1.1)
    let batch = [];
    let held = 0;
    const send = async () => {
      await fetch(sinkUrl, { method: 'POST', body: new Blob(batch) });
      batch = [];
      held = 0;
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      batch.push(value);
      held += value.length;
      if (held >= 4 * 1024 * 1024) await send();
    }
    await send();
    return true;
    }"""
)


def _document(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path`` in pieces; their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, 4 * MIB))
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
    return digest.hexdigest()


def _pieces(path: Path, size: int = MIB) -> Any:
    with path.open("rb") as source:
        while piece := source.read(size):
            yield piece


def _python_to_browser(harness: Any, files: Files, tmp_path: Path, size: int) -> None:
    plain = tmp_path / "plain"
    expected = _document(plain, size)
    key = DataKey.generate()
    sealed = tmp_path / "sealed"
    with sealed.open("wb") as out:
        for record in encrypt(_pieces(plain), key):
            out.write(record)
    url = files.serve("doc", sealed)
    opened = harness.evaluate(DECRYPT, {"url": url, "key": bytes(key).hex()})
    assert opened == {"sha256": expected, "size": size}


def _browser_to_python(harness: Any, files: Files, tmp_path: Path, size: int) -> None:
    plain = tmp_path / "plain"
    expected = _document(plain, size)
    key = DataKey.generate()
    plain_url = files.serve("plain", plain)
    sink_url, sink = files.sink("sealed")
    harness.evaluate(ENCRYPT, {"plainUrl": plain_url, "sinkUrl": sink_url, "key": bytes(key).hex()})
    digest = hashlib.sha256()
    total = 0
    for piece in decrypt(_pieces(sink), key):
        digest.update(piece)
        total += len(piece)
    assert (total, digest.hexdigest()) == (size, expected)
    # the browser used the default chunk size, so the ciphertext's size is exact
    assert sink.stat().st_size == 35 + size + 17 * max(1, -(-size // CHUNK_SIZE))


def test_the_shared_vector_byte_identical_both_ways(harness: Any) -> None:
    cases = json.loads(VECTOR.read_text())["cases"]
    results = harness.evaluate(
        "async (cases) => {"
        + MODULES
        + """
        const out = [];
        for (const c of cases) {
          const made = [];
          const writer = new WritableStream({ write(p) { made.push(...p); } });
          const source = new Blob([bytes(c.plaintext)]).stream();
          await source.pipeThrough(env._encryptStreamWithHeader(
            bytes(c.key), bytes(c.stream_header), c.chunk_size)).pipeTo(writer);
          const opened = [];
          const reader = new WritableStream({ write(p) { opened.push(...p); } });
          await new Blob([bytes(c.ciphertext)]).stream()
            .pipeThrough(env.decryptStream(bytes(c.key))).pipeTo(reader);
          out.push({ ciphertext: hex(made), plaintext: hex(opened) });
        }
        return out;
        }""",
        cases,
    )
    assert len(results) == len(cases) >= 4
    for case, result in zip(cases, results, strict=True):
        assert result == {"ciphertext": case["ciphertext"], "plaintext": case["plaintext"]}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_python_envelope_opens_in_the_browser(
    harness: Any, files: Files, tmp_path: Path, size: int
) -> None:
    _python_to_browser(harness, files, tmp_path, size)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_browser_envelope_opens_in_python(
    harness: Any, files: Files, tmp_path: Path, size: int
) -> None:
    _browser_to_python(harness, files, tmp_path, size)


#: plaintext sizes whose ciphertexts the page must size back exactly: 0 B, 1 B, one
#: record - 1 / + 0 / + 1, several records (partial and full last ones)
PLAINTEXT_SIZES = [*SIZES.values(), 3 * CHUNK_SIZE + 5, 4 * CHUNK_SIZE]


def test_the_plaintext_size_of_a_ciphertext_is_exact(harness: Any) -> None:
    """``plaintextSize`` (the documents list's size) inverts the Python envelope's
    sizes: for real envelopes of the sizes that matter, and for every ciphertext size up
    to 60 bytes of records at a 4-byte chunk size, where each size either is one
    envelope's (that document's size) or none's (null)."""
    key = DataKey.generate()
    made = {n: sum(len(p) for p in encrypt([os.urandom(n)], key)) for n in PLAINTEXT_SIZES}
    assert all(size == ciphertext_size(n) for n, size in made.items())
    small = {ciphertext_size(n, 4): n for n in range(60)}
    found = harness.evaluate(
        "async ({made, upTo}) => {"
        + MODULES
        + """
        return {
          made: made.map((size) => env.plaintextSize(size)),
          small: Array.from({ length: upTo }, (_, size) => env.plaintextSize(size, 4)),
          odd: [-1, 0.5, Number.MAX_VALUE].map((size) => env.plaintextSize(size)),
        };
        }""",
        {"made": list(made.values()), "upTo": max(small) + 1},
    )
    assert found["made"] == list(made)
    assert found["small"] == [small.get(size) for size in range(max(small) + 1)]
    assert found["odd"] == [None, None, None]


@pytest.mark.slow
def test_50_mib_both_ways_streamed(harness: Any, files: Files, tmp_path: Path) -> None:
    _python_to_browser(harness, files, tmp_path, 50 * MIB)
    _browser_to_python(harness, files, tmp_path, 50 * MIB)


@pytest.mark.slow
def test_500_mib_both_ways_in_far_less_browser_memory_than_the_document(
    harness: Any, files: Files, tmp_path: Path
) -> None:
    """Issue 14's memory line at the envelope's level: encrypting and decrypting 500 MiB
    in the page grows Chromium's resident memory (all its processes, counted by the
    kernel) by less than the document: streaming holds (holding it would take 500 MiB
    of plaintext and as much ciphertext). Measured here: about 170 MiB decrypting and
    240 MiB encrypting (the harness's 4 MiB upload Blobs included), above the issue's
    128 MiB target; docs/web.md says what is known of it."""
    limit = 400 * MIB
    harness.evaluate("async () => { await (await import('/envelope.js')).ready(); }")
    cdp = harness.context.new_cdp_session(harness)
    retained = {}
    for direction, run in (("decrypting", _python_to_browser), ("encrypting", _browser_to_python)):
        with peak_growth() as growth:
            run(harness, files, tmp_path, 500 * MIB)
        # What the growth is: decrypting, garbage (records' ArrayBuffers V8 has not
        # collected yet), not buffers something holds: a full collection, which a page
        # cannot ask for, gives nearly all of it back. Encrypting, most of what stays
        # is the browser process's blob store holding the harness's own upload Blobs
        # (docs/web.md, "Memory").
        cdp.send("HeapProfiler.collectGarbage")
        retained[direction] = browser_rss() - growth["before"]
        print(f"browser growth {direction}: {growth}, after a full GC {retained[direction]}")
        assert growth["growth"] < limit, growth
    # After a full collection the renderer still keeps 34 to 50 MiB (six runs of 500 MiB,
    # CI's included; in two of them four collections in a row gave the same figure):
    # pages its allocators keep for reuse, not a growing hold. 48 MiB was too tight (CI
    # saw 49.7).
    # Holding the document, or a fifth of it, would still fail this bound.
    assert retained["decrypting"] < 96 * MIB, retained


def test_a_tampered_ciphertext_is_refused_and_nothing_is_kept(
    harness: Any, files: Files, tmp_path: Path
) -> None:
    key = DataKey.generate()
    ciphertext = bytearray(b"".join(encrypt([os.urandom(3 * CHUNK_SIZE)], key)))
    ciphertext[35 + CHUNK_SIZE + 17 + 100] ^= 0x01  # one bit of the second record
    damaged = tmp_path / "damaged"
    damaged.write_bytes(ciphertext)
    url = files.serve("damaged", damaged)
    result = harness.evaluate(
        "async ({url, key}) => {"
        + MODULES
        + """
        const sink = save.blobSink();
        const response = await fetch(url);
        try {
          await save.drain(save.plaintextOf(response.body, { dataKey: bytes(key) }), sink.writable);
          return { saved: sink.blob() !== null };
        } catch (error) {
          return { failure: error.code, saved: sink.blob() !== null };
        }
        }""",
        {"url": url, "key": bytes(key).hex()},
    )
    assert result == {"failure": "tampered", "saved": False}


def test_a_wrong_recorded_hash_is_refused_before_the_last_record(
    harness: Any, files: Files, tmp_path: Path
) -> None:
    key = DataKey.generate()
    sealed = tmp_path / "sealed"
    sealed.write_bytes(b"".join(encrypt([b"bilan"], key)))
    url = files.serve("sealed", sealed)
    result = harness.evaluate(
        "async ({url, key}) => {"
        + MODULES
        + """
        const out = [];
        const response = await fetch(url);
        const sink = new WritableStream({ write(p) { out.push(p); } });
        try {
          await save.drain(save.plaintextOf(response.body,
            { dataKey: bytes(key), sha256: '00'.repeat(32) }), sink);
        } catch (error) {
          return { failure: error.code, released: out.length };
        }
        return { released: out.length };
        }""",
        {"url": url, "key": bytes(key).hex()},
    )
    assert result == {"failure": "tampered", "released": 0}


def test_a_device_seed_gives_the_python_keys_and_opens_a_sealed_key(harness: Any) -> None:
    from client.readerkey import ReaderKey

    seed = os.urandom(32)
    python = ReaderKey(seed)
    data_key = DataKey.generate()
    sealed = seal(data_key, python.public_key)
    message = b"coffre-device-proof-v1\n{}"
    result = harness.evaluate(
        "async ({seed, sealed, message}) => {"
        + MODULES
        + """
        const keys = await import('/keys.js');
        const sodium = await keys.ready();
        const make = () => keys.reader(sodium, bytes(seed));
        const device = make();
        return {
          keyId: device.keyId, signingKey: device.signingKey, publicKey: device.publicKey,
          dataKey: hex(make().unseal(bytes(sealed))),
          signature: hex(make().sign(bytes(message))),
        };
        }""",
        {"seed": seed.hex(), "sealed": sealed.hex(), "message": message.hex()},
    )
    assert result["keyId"] == python.key_id
    assert result["signingKey"] == python.signing_key_b64
    assert result["publicKey"] == python.public_key_b64
    assert result["dataKey"] == bytes(data_key).hex()
    assert bytes.fromhex(result["signature"]) == python.sign(message)


def test_the_proof_message_is_the_python_one(harness: Any) -> None:
    from wire.devices import approval_message, proof_message

    args = ["défi-1", "patient", "1 85 05 75 123 456 78", "AAAA", "Portable de Jeanne"]
    result = harness.evaluate(
        "async (args) => {"
        + MODULES
        + """
        const keys = await import('/keys.js');
        const dec = new TextDecoder();
        return [dec.decode(keys.proofMessage(...args)),
                dec.decode(keys.approvalMessage('patient', 'p1', 'k1', 'pk', null))];
        }""",
        args,
    )
    assert result == [
        proof_message(*args).decode(),
        approval_message("patient", "p1", "k1", "pk", None).decode(),
    ]
