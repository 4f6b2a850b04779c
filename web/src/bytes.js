// Reading a byte stream into buffers the caller reuses, so that a large transfer does
// not allocate an ArrayBuffer per piece (garbage outside the JS heap, which V8 collects
// on its own schedule: docs/web.md, "Memory").

/** A ReadableStream of bytes read into the caller's buffers: through a BYOB reader
 * where the stream is a byte stream (Chromium's Blob and fetch bodies), which fills
 * the given buffer itself; else through a default reader, copying its pieces. */
export class ByteSource {
  constructor(stream) {
    try {
      this.byob = stream.getReader({ mode: "byob" });
    } catch {
      this.byob = null;
      this.reader = stream.getReader();
      this.left = null;
    }
  }

  /** Fill ``buffer`` (an ArrayBuffer) from its start with up to ``n`` bytes, fewer
   * only at the stream's end. Answers ``{buffer, length}``: a BYOB read transfers the
   * buffer, so the one to use from now on is the one answered. */
  async fill(buffer, n) {
    let got = 0;
    if (this.byob) {
      while (got < n) {
        const { done, value } = await this.byob.read(new Uint8Array(buffer, got, n - got));
        if (value) buffer = value.buffer;
        if (done) break;
        got += value.length;
      }
      return { buffer, length: got };
    }
    const into = new Uint8Array(buffer);
    while (got < n) {
      if (this.left === null || this.left.length === 0) {
        const { done, value } = await this.reader.read();
        if (done) break;
        this.left = value instanceof Uint8Array ? value : new Uint8Array(value);
        continue;
      }
      const take = Math.min(n - got, this.left.length);
      into.set(this.left.subarray(0, take), got);
      got += take;
      this.left = this.left.subarray(take);
    }
    return { buffer, length: got };
  }

  /** Stop reading (what is left is not wanted). */
  cancel() {
    (this.byob || this.reader).cancel().catch(() => {});
  }
}

/** Bytes gathered into one reused buffer of ``size`` and handed to ``flush`` each time
 * it is full (and at the end): fewer, larger writes, and no allocation per piece.
 * ``flush`` must have copied the bytes when its promise settles, or answer the
 * ArrayBuffer to go on with (one it transferred elsewhere and got back). */
export class Batch {
  constructor(size, flush) {
    this.buffer = new Uint8Array(size);
    this.filled = 0;
    this.flush = flush;
  }

  /** Copy ``piece`` in, flushing each time the buffer is full. ``piece`` may be a view
   * of libsodium's heap, valid only until its next call: what is left of it when a
   * flush must wait is copied first (a wait lets other code run). */
  async add(piece) {
    let offset = 0;
    while (offset < piece.length) {
      const n = Math.min(piece.length - offset, this.buffer.length - this.filled);
      this.buffer.set(piece.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.buffer.length) {
        if (offset < piece.length) {
          piece = piece.slice(offset);
          offset = 0;
        }
        this.adopt(await this.flush(this.buffer));
        this.filled = 0;
      }
    }
  }

  /** Flush what is left. */
  async end() {
    if (this.filled) this.adopt(await this.flush(this.buffer.subarray(0, this.filled)));
    this.filled = 0;
  }

  adopt(returned) {
    if (returned instanceof ArrayBuffer) this.buffer = new Uint8Array(returned);
  }
}
