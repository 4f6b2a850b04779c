// A dedicated worker that PUTs one part of a direct upload and ends (the page
// terminates it once it answered). Why a worker per part: Chromium keeps its copy of a
// request body until V8 collects the request object, and a page that makes little
// garbage (the deposit reuses its buffers) may go hundreds of MiB before V8 collects;
// ending the worker frees its copy at once (docs/web.md, "Memory").
//
// In:  { url, buffer, length }, the part's bytes transferred, not copied.
// Out: { ok, buffer }, the buffer transferred back for the next part.

self.onmessage = async ({ data: { url, buffer, length } }) => {
  let ok = false;
  try {
    const answer = await fetch(url, { method: "PUT", body: new Uint8Array(buffer, 0, length), credentials: "omit" });
    ok = answer.ok;
  } catch {
    ok = false; // the storage unreachable, or refusing this page's origin
  }
  self.postMessage({ ok, buffer }, [buffer]);
};
