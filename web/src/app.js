// The patient's page: the access log first, then the documents (opened and saved
// decrypted in this browser), who may read what, and this device. Built with the DOM
// (textContent only, no HTML strings, no inline script: the CSP forbids both).

import { api, ApiError, logout, spacePath, whoAmI } from "./api.js";
import { createDevice, forgetDevice, loadDevice } from "./device.js";
import { Batch } from "./bytes.js";
import { ciphertextSize, encryptFile, generateDataKey, plaintextSize, ready, sealDataKey } from "./envelope.js";
import { hasher } from "./digest.js";
import * as i18n from "./i18n.js";
import { b64, proofMessage, unb64 } from "./keys.js";
import { blobWriter, fileSink, offerDownload, pickFile, ReadFailure, readInto } from "./save.js";

const { t } = i18n;
const LOG_PAGE = 20;

const state = {
  actor: null,
  view: "log",
  notice: null, // what to say once the next view is shown
  space: null, // the patient id of the space on view: the patient's own, or one a professional chose
  log: { cursors: [null], filters: {} },
  docs: { space: null, cursors: [null] }, // the listing's pages seen, for the space named
};

// -- DOM helpers ----------------------------------------------------------------------

/** An element with attributes, listeners (on: {event: fn}) and children (text or nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (name === "class") el.className = value;
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const $ = (id) => document.getElementById(id);

/** A labelled form field. */
const field = (id, label, input) => h("div", { class: "field" }, h("label", { for: id }, label), input);

/** A form of one text field: its title, label and button; ``go`` receives the text.
 * ``name``: the field's name (autocomplete hints follow it); ``danger``: a red button. */
function oneFieldForm({ id, name = "ins", title, label, submit, danger = false }, go) {
  return h(
    "form",
    {
      "aria-labelledby": `${id}-title`,
      on: {
        submit: (event) => {
          event.preventDefault();
          go(new FormData(event.target).get(name).trim());
        },
      },
    },
    h("h3", { id: `${id}-title` }, title),
    field(id, label, h("input", { id, name, required: true, autocomplete: name === "code" ? "one-time-code" : "off" })),
    h("button", { type: "submit", class: danger ? "danger" : null }, submit),
  );
}

function say(text) {
  $("status").textContent = text;
}

function alarm(text) {
  const alert = $("alert");
  alert.textContent = text;
  alert.hidden = !text;
}

function failure(error) {
  if (error instanceof ReadFailure) return t(`error.${error.code}`);
  if (error instanceof ApiError && error.readRefused) return t("error.readRefused");
  if (error instanceof ApiError) {
    const detail = error.problem.detail || error.problem.title || `HTTP ${error.status}`;
    return error.status === 403 || error.status === 404
      ? t("error.refused", { detail })
      : t("error.generic", { detail });
  }
  return t("error.generic", { detail: error.message });
}

async function guarded(action) {
  alarm("");
  try {
    await action();
  } catch (error) {
    alarm(failure(error));
  }
}

function table(caption, headers, rows) {
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows),
  );
}

/** A pager over cursor pages: ``cursors`` holds the cursor of each page seen (null for
 * the first), the last one on view; ``next`` is the answer's next_cursor (null on the
 * last page); ``keys`` name the label, back and on buttons' texts. */
function pages(cursors, next, keys) {
  return h(
    "nav",
    { class: "pager", "aria-label": t(keys.page, { n: cursors.length }) },
    h("button", {
      type: "button",
      disabled: cursors.length <= 1,
      on: { click: () => { cursors.pop(); render(); } },
    }, t(keys.back)),
    h("span", {}, t(keys.page, { n: cursors.length })),
    h("button", {
      type: "button",
      disabled: !next,
      on: { click: () => { cursors.push(next); render(); } },
    }, t(keys.on)),
  );
}

/** Ask before a change: a panel at the top of the view with the question, Confirm and
 * Cancel (focused first: the safe choice); ``action`` runs only on Confirm. */
function confirmThen(question, confirmLabel, action) {
  $("confirm")?.remove();
  const panel = h(
    "div",
    { id: "confirm", class: "confirm", role: "group", "aria-labelledby": "confirm-question" },
    h("p", { id: "confirm-question" }, question),
    h("button", {
      type: "button",
      on: { click: () => { panel.remove(); guarded(action); } },
    }, confirmLabel),
    " ",
    h("button", { type: "button", class: "secondary", on: { click: () => panel.remove() } }, t("confirm.cancel")),
  );
  $("view").prepend(panel);
  panel.querySelector("button.secondary").focus();
}

/** Whether the signed-in person holds the space on view (its patient or a legal
 * representative): they manage documents, who reads, and the space's life. */
function holder() {
  return ["patient", "representative"].includes(state.actor?.role);
}

// -- the frame ------------------------------------------------------------------------

const PATIENT_VIEWS = {
  log: renderLog,
  documents: renderDocuments,
  grants: renderGrants,
  space: renderSpaceLife,
  notifications: renderNotifications,
  device: renderDevice,
};

const PROFESSIONAL_VIEWS = {
  spaces: renderSpaces,
  documents: renderDocuments,
  notifications: renderNotifications,
  device: renderDevice,
};

// A legal representative acts in the space of the person they represent (a child):
// what the rules let them see and change there. The access log and grants are the
// patient's own (the API answers them to the patient only).
const REPRESENTATIVE_VIEWS = {
  represented: renderRepresented,
  documents: renderDocuments,
  grants: renderGrants,
  space: renderSpaceLife,
  notifications: renderNotifications,
  device: renderDevice,
};

/** The views that need a space chosen first. */
const SPACE_VIEWS = new Set(["log", "documents", "grants", "space"]);
const CHOSEN_SPACE = "coffre.space"; // kept for the tab's life: reloads stay in the space

function views() {
  if (state.actor?.role === "professional") return PROFESSIONAL_VIEWS;
  if (state.actor?.role === "representative") return REPRESENTATIVE_VIEWS;
  return PATIENT_VIEWS;
}

function renderFrame() {
  document.title = t("title");
  $("skip").textContent = t("skip");
  const lang = $("lang");
  lang.textContent = t("language");
  lang.setAttribute("aria-label", t("languageLabel"));
  lang.setAttribute("lang", i18n.currentLanguage() === "fr" ? "en" : "fr");
  const nav = $("nav");
  nav.setAttribute("aria-label", t("nav"));
  nav.replaceChildren(
    h(
      "ul",
      {},
      Object.keys(views()).map((view) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: `#${view}`, "aria-current": state.view === view ? "page" : null },
            t(`nav.${view}`),
          ),
        ),
      ),
    ),
  );
  const who = $("who");
  who.replaceChildren();
  if (state.actor) {
    who.append(
      h("span", {}, t("signedIn", { name: state.actor.name || state.actor.id })),
      " ",
      h(
        "button",
        {
          type: "button",
          on: {
            click: () =>
              guarded(async () => {
                await logout();
                window.location.assign("/");
              }),
          },
        },
        t("logout"),
      ),
    );
  }
}

async function render() {
  renderFrame();
  const view = $("view");
  if (!state.actor) {
    view.replaceChildren(
      h("h2", {}, t("title")),
      h("p", {}, t("loginNeeded")),
      h("p", {}, h("a", { href: "/auth/login", class: "button" }, t("login"))),
    );
    return;
  }
  say(t("loading"));
  delete view.dataset.view;
  if (SPACE_VIEWS.has(state.view) && !state.space) {
    view.replaceChildren(h("h2", {}, t(`nav.${state.view}`)), h("p", {}, t("spaces.choose")));
  } else {
    await guarded(() => views()[state.view]());
  }
  view.dataset.view = state.view; // what is on screen now (the tests wait for it)
  if ($("status").textContent === t("loading")) say(state.notice || "");
  state.notice = null;
}

// -- the access log -------------------------------------------------------------------

function howOf(entry) {
  // a read's basis (grant, care team, emergency) says more than "normal"
  const basis = entry.detail?.basis;
  if (entry.how === "emergency" || basis === "emergency") return "emergency";
  if (basis && ["grant", "care_team", "patient", "author", "representative"].includes(basis)) return basis;
  return entry.how;
}

function logRow(entry) {
  const how = howOf(entry);
  const emergency = how === "emergency" || entry.action === "emergency_access";
  const actor = entry.actor;
  const about = [i18n.professionName(actor.profession), actor.organisation].filter(Boolean).join(" · ");
  const justification = entry.detail?.justification;
  return h(
    "tr",
    { class: [emergency ? "emergency" : "", entry.outcome === "refused" ? "refused" : ""].join(" ").trim() || null },
    h("td", {}, h("time", { datetime: entry.at }, i18n.when(entry.at))),
    h(
      "td",
      {},
      h("span", { class: "name" }, actor.name),
      about ? h("span", { class: "sub" }, about) : null,
      // how they logged in, as their provider's token said (e-CPS, card, pwd)
      entry.authentication ? h("span", { class: "sub" }, t("log.authentication", { method: entry.authentication })) : null,
    ),
    h(
      "td",
      {},
      i18n.actionName(entry.action),
      entry.document_title ? h("span", { class: "sub" }, entry.document_title) : null,
      entry.document_type && !entry.document_title ? h("span", { class: "sub" }, i18n.typeName(entry.document_type)) : null,
      entry.device?.name ? h("span", { class: "sub" }, t("log.device", { name: entry.device.name })) : null,
    ),
    h(
      "td",
      {},
      emergency ? h("strong", { class: "badge emergency" }, t("log.emergency")) : t(`how.${how}`),
      justification ? h("span", { class: "sub" }, t("log.justification", { text: justification })) : null,
    ),
    h(
      "td",
      {},
      h("span", { class: `badge ${entry.outcome}` }, t(`outcome.${entry.outcome}`)),
      entry.reason ? h("span", { class: "sub" }, entry.reason) : null,
    ),
  );
}

function logQuery(before) {
  const params = new URLSearchParams({ limit: String(LOG_PAGE) });
  const f = state.log.filters;
  if (f.action) params.set("action", f.action);
  if (f.actor_id) params.set("actor_id", f.actor_id);
  if (f.since) params.set("since", `${f.since}T00:00:00Z`);
  if (f.until) params.set("until", `${f.until}T23:59:59Z`);
  if (before !== null && before !== undefined) params.set("before", String(before));
  return params;
}

function filtersForm() {
  const f = state.log.filters;
  const form = h(
    "form",
    {
      class: "filters",
      "aria-label": t("log.filters"),
      on: {
        submit: (event) => {
          event.preventDefault();
          const data = new FormData(event.target);
          state.log.filters = Object.fromEntries([...data.entries()].filter(([, v]) => v));
          state.log.cursors = [null];
          render();
        },
      },
    },
    field(
      "f-action",
      t("log.filter.action"),
      h(
        "select",
        { id: "f-action", name: "action" },
        h("option", { value: "" }, t("log.filter.any")),
        i18n.actions().map(([value, label]) => h("option", { value, selected: f.action === value }, label)),
      ),
    ),
    field("f-since", t("log.filter.since"), h("input", { id: "f-since", name: "since", type: "date", value: f.since || null })),
    field("f-until", t("log.filter.until"), h("input", { id: "f-until", name: "until", type: "date", value: f.until || null })),
    field("f-actor", t("log.filter.actor"), h("input", { id: "f-actor", name: "actor_id", value: f.actor_id || null })),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, t("log.filter.apply")),
      h("button", {
        type: "button",
        on: { click: () => { state.log.filters = {}; state.log.cursors = [null]; render(); } },
      }, t("log.filter.reset")),
    ),
  );
  return form;
}

async function renderLog() {
  const cursors = state.log.cursors;
  const before = cursors[cursors.length - 1];
  const page = await api("GET", `${spacePath(state.space)}/access-log?${logQuery(before)}`);
  const rows = page.entries.map(logRow);
  const pager = pages(cursors, page.next_cursor, { page: "log.page", back: "log.newer", on: "log.older" });
  $("view").replaceChildren(
    h("h2", {}, t("log.title")),
    h("p", {}, t("log.intro")),
    filtersForm(),
    rows.length
      ? table(t("log.title"), ["log.when", "log.who", "log.what", "log.how", "log.outcome"].map((k) => t(k)), rows)
      : h("p", {}, t("log.empty")),
    pager,
  );
}

// -- documents ------------------------------------------------------------------------

async function approvedDevice() {
  const device = await loadDevice(state.actor.role, state.actor.id);
  if (!device) return null;
  const listed = await api("GET", "/v1/devices");
  const mine = listed.devices.find((d) => d.key_id === device.keyId);
  return mine && mine.status === "approved" ? device : null;
}

function fileName(doc) {
  const safe = doc.title.replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_").slice(0, 120);
  return safe || doc.document_id;
}

async function readDocument(doc, mode) {
  // The picker first, while the click's user activation lasts.
  const picked = mode === "save" ? await pickFile(fileName(doc)) : null;
  const device = await approvedDevice();
  if (!device) {
    if (picked) await picked.abort();
    alarm(t("docs.needDevice"));
    return;
  }
  await ready();
  let release;
  try {
    release = await api("POST", `${spacePath(state.space)}/documents/${doc.document_id}/reads`, {
      reader_key_id: device.keyId,
    });
  } catch (error) {
    // The API answers a refusal like an unknown document (it reveals nothing); the
    // reader is told plainly that this read was refused, and that it is on record.
    if (picked) await picked.abort();
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) error.readRefused = true;
    throw error;
  }
  const dataKey = await device.unseal(unb64(release.sealed_key));
  let response;
  try {
    response = await fetch(release.content_url, { credentials: "omit", cache: "no-store" });
  } catch {
    if (picked) await picked.abort();
    throw new ReadFailure("network");
  }
  if (!response.ok) {
    if (picked) await picked.abort();
    throw new ReadFailure(response.status === 403 || response.status === 400 ? "link-expired" : "network");
  }
  const progress = (done) => say(t("docs.progress", { title: doc.title, done: i18n.size(done) }));
  // decrypted record by record into reused buffers, then written piecewise: to the
  // picked file (streamed to disk), else to a Blob offered once verified
  const sink = picked ? fileSink(picked) : blobWriter(mode === "open" ? "application/pdf" : "application/octet-stream");
  try {
    await readInto(response.body, { sha256: release.sha256, dataKey, onProgress: progress }, sink);
  } finally {
    dataKey.fill(0);
  }
  if (!picked) {
    if (mode === "open") window.open(URL.createObjectURL(sink.blob()), "_blank", "noopener");
    else offerDownload(sink.blob(), fileName(doc));
  }
  say(t("docs.saved", { title: doc.title }));
}

/** The confidentiality codes a listing names (the API's fields, RULES.md rules 5-7). */
const CODES = ["masked", "invisible_to_representatives", "invisible_to_patient"];

/** The codes set on a listed document, each in words, or that none is. */
function documentCodes(doc) {
  const set = CODES.filter((code) => doc[code]);
  if (!set.length) return t("docs.code.none");
  return set.map((code) => h("span", { class: "badge code" }, t(`docs.code.${code}`)));
}

/** The holder's changes to one document (confidentiality routes and deletion), each
 * asked first: [key, method, path suffix], offered as the document's codes stand:
 * mask or unmask, never both. Hiding from legal representatives is the patient's own
 * right (a minor's), and one-way: offered only while not done. */
function documentChanges(doc) {
  const path = `${spacePath(state.space)}/documents/${doc.document_id}`;
  const patient = state.actor.role === "patient";
  const changes = [doc.masked ? ["unmask", "DELETE", "/mask"] : ["mask", "PUT", "/mask"]];
  if (patient && !doc.invisible_to_representatives) {
    changes.push(["hideFromRepresentatives", "PUT", "/invisible-to-representatives"]);
  }
  if (patient) changes.push(["delete", "DELETE", ""]); // a representative may not delete
  return changes.map(
    ([key, method, suffix]) =>
      h("button", {
        type: "button",
        class: key === "delete" ? "danger" : "secondary",
        "aria-label": t(`docs.${key}Label`, { title: doc.title }),
        on: {
          click: () =>
            confirmThen(t(`docs.${key}Confirm`, { title: doc.title }), t(`docs.${key}`), async () => {
              await api(method, `${path}${suffix}`);
              await render();
              say(t(`docs.${key}Done`, { title: doc.title }));
            }),
        },
      }, t(`docs.${key}`)),
  );
}

/** A listed document's size: its plaintext's, computed from the ciphertext's for the
 * default chunk size (envelope.js, plaintextSize); a size no such envelope has (another
 * chunk size) is shown as what it is, the ciphertext's. */
function documentSize(stored) {
  const plain = plaintextSize(stored);
  return plain === null ? t("docs.sizeSealed", { size: i18n.size(stored) }) : i18n.size(plain);
}

async function renderDocuments() {
  if (!state.space) {
    $("view").replaceChildren(h("h2", {}, t("docs.title")), h("p", {}, t("spaces.choose")));
    return;
  }
  if (state.docs.space !== state.space) state.docs = { space: state.space, cursors: [null] };
  const cursors = state.docs.cursors;
  const after = cursors[cursors.length - 1];
  let listed;
  try {
    const query = after ? `?after=${encodeURIComponent(after)}` : "";
    listed = await api("GET", `${spacePath(state.space)}/documents${query}`);
  } catch (error) {
    // a professional may deposit in a space they may not read: the form stays
    if (!(error instanceof ApiError && [403, 404].includes(error.status) && !holder())) throw error;
    listed = { documents: [], next_cursor: null };
  }
  const rows = listed.documents.map((doc) =>
    h(
      "tr",
      {},
      h("td", {}, i18n.typeName(doc.type)),
      h("td", {}, doc.title),
      h("td", {}, doc.author_name, doc.author_organisation ? h("span", { class: "sub" }, doc.author_organisation) : null),
      h("td", {}, h("time", { datetime: doc.date }, i18n.day(doc.date))),
      h("td", {}, documentSize(doc.size)),
      h("td", {}, documentCodes(doc)),
      h(
        "td",
        { class: "actions" },
        h("button", {
          type: "button",
          "aria-label": t("docs.openLabel", { title: doc.title }),
          on: { click: () => guarded(() => readDocument(doc, "open")) },
        }, t("docs.open")),
        h("button", {
          type: "button",
          "aria-label": t("docs.saveLabel", { title: doc.title }),
          on: { click: () => guarded(() => readDocument(doc, "save")) },
        }, t("docs.save")),
        holder() ? documentChanges(doc) : null,
      ),
    ),
  );
  $("view").replaceChildren(
    h("h2", {}, t(state.space === state.actor.id ? "docs.title" : "docs.titleOf")),
    state.space !== state.actor.id ? h("p", {}, t("spaces.viewing", { id: state.space })) : null,
    rows.length
      ? table(t("docs.title"), ["docs.type", "docs.name", "docs.author", "docs.date", "docs.size", "docs.codes", "docs.actions"].map((k) => t(k)), rows)
      : h("p", {}, t("docs.empty")),
    // a space of thousands of documents comes a page at a time, in deposit order
    cursors.length > 1 || listed.next_cursor
      ? pages(cursors, listed.next_cursor, { page: "docs.page", back: "docs.previous", on: "docs.next" })
      : null,
    depositForm(),
  );
}

async function deposit(form) {
  const data = new FormData(form);
  const file = data.get("file");
  const title = data.get("title").trim();
  await ready();
  const dataKey = generateDataKey();
  const progress = (done) => say(t("docs.encrypting", { title, done: i18n.size(done) }));
  // the file read and sealed record by record into reused buffers (envelope.js)
  const encryptInto = (write) => encryptFile(file, dataKey, write, progress);
  let space, upload;
  try {
    // Straight to S3 by parts where the server offers it (one part held at a time);
    // else through the API, the ciphertext kept as a Blob first (HTTP/1.1 uploads
    // cannot stream a body of unknown end; the browser pages large Blobs to disk).
    const direct = await startDirectUpload(ciphertextSize(file.size));
    if (direct) {
      space = direct.space_key;
      upload = await sendByParts(direct, encryptInto);
    } else {
      space = await api("GET", `${spacePath(state.space)}/key`);
      const sink = blobWriter();
      await encryptInto(sink.write);
      await sink.close();
      say(t("docs.sending", { title }));
      upload = await api("POST", `${spacePath(state.space)}/uploads`, sink.blob());
    }
  } catch (error) {
    dataKey.fill(0);
    if (error instanceof ApiError) throw error;
    throw new Error(t("docs.unreadable"));
  }
  const sealed = sealDataKey(dataKey, unb64(space.public_key));
  dataKey.fill(0);
  await api("POST", `${spacePath(state.space)}/documents`, {
    receipt: upload.receipt,
    type: data.get("type"),
    title,
    date: data.get("date"),
    sealed_key: b64(sealed),
  });
  form.reset();
  await render();
  say(t("docs.deposited", { title }));
}

/** A direct upload of `size` ciphertext bytes (its part URLs and the space's key), or
 * null where the server takes uploads through the API only. */
async function startDirectUpload(size) {
  try {
    return await api("POST", `${spacePath(state.space)}/direct-uploads`, { size });
  } catch (error) {
    const unavailable = error instanceof ApiError && [404, 405, 409].includes(error.status);
    if (unavailable) return null; // the files backend, or direct uploads turned off
    throw error;
  }
}

/** PUT ``bytes`` (a view from the start of its buffer) to ``url`` from a worker of its
 * own, ended once it answered: the browser's copy of the body goes with it, instead of
 * waiting for V8 to collect the request (uploader.js). The buffer is transferred there
 * and back; the answer is the buffer to go on with. Without workers, from the page. */
async function putPart(url, bytes) {
  let worker = null;
  try {
    worker = new Worker("/uploader.js", { type: "module" });
  } catch {
    const answer = await fetch(url, { method: "PUT", body: bytes, credentials: "omit" });
    if (!answer.ok) throw new Error("part refused");
    return bytes.buffer;
  }
  try {
    const reply = await new Promise((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = () => reject(new Error("the upload worker failed"));
      worker.postMessage({ url, buffer: bytes.buffer, length: bytes.length }, [bytes.buffer]);
    });
    if (!reply.ok) throw new Error("part refused");
    return reply.buffer;
  } finally {
    worker.terminate();
  }
}

/** Encrypt into the direct upload's parts, each PUT to its presigned URL as soon as it
 * is full (one part buffer, reused), hashing the whole ciphertext on the way; then
 * complete it: the server checks the size and the envelope's header, and answers the
 * upload's receipt. An upload that fails is aborted (its parts removed). */
async function sendByParts(direct, encryptInto) {
  const hash = hasher();
  let number = 0;
  const send = async (bytes) => {
    const target = direct.parts[number];
    number += 1;
    if (!target) throw new Error("more ciphertext than announced");
    try {
      return await putPart(target.url, bytes);
    } catch {
      // the storage unreachable, or refusing this page's origin
      throw new ApiError(503, { detail: t("docs.sendFailed") });
    }
  };
  const parts = new Batch(direct.part_size, send);
  const path = `${spacePath(state.space)}/direct-uploads`;
  try {
    await encryptInto((bytes) => {
      hash.update(bytes);
      return parts.add(bytes);
    });
    await parts.end();
    return await api("POST", `${path}/complete`, { upload: direct.upload, sha256: hash.hex() });
  } catch (error) {
    await api("POST", `${path}/abort`, { upload: direct.upload }).catch(() => {});
    throw error;
  }
}

function depositForm() {
  const today = new Date().toISOString().slice(0, 10);
  return h(
    "form",
    {
      "aria-labelledby": "deposit-title",
      on: {
        submit: (event) => {
          event.preventDefault();
          guarded(() => deposit(event.target));
        },
      },
    },
    h("h3", { id: "deposit-title" }, t("docs.deposit")),
    field("p-file", t("docs.file"), h("input", { id: "p-file", name: "file", type: "file", required: true })),
    field(
      "p-type",
      t("docs.type"),
      h(
        "select",
        { id: "p-type", name: "type" },
        // a personal note is the patient's own; a professional deposits clinical documents
        i18n.types().filter(([value]) => holder() || value !== "patient_note").map(([value, label]) => h("option", { value }, label)),
      ),
    ),
    field("p-title", t("docs.name"), h("input", { id: "p-title", name: "title", required: true, maxlength: 200 })),
    field("p-date", t("docs.date"), h("input", { id: "p-date", name: "date", type: "date", required: true, value: today })),
    h("button", { type: "submit" }, t("docs.depositSubmit")),
  );
}

/** Act in ``patientId``'s space from now on (this tab), and show its ``view``
 * (its documents unless said otherwise). */
function chooseSpace(patientId, view = "documents") {
  state.space = patientId;
  window.sessionStorage.setItem(CHOSEN_SPACE, patientId);
  if (window.location.hash === `#${view}`) render();
  else window.location.hash = `#${view}`;
}

// -- a legal representative's spaces -----------------------------------------------------

async function renderRepresented() {
  // the spaces this person represents someone in now (a parent's until majority)
  const listed = await api("GET", "/v1/me/represented-spaces");
  const rows = listed.spaces.map((space) => {
    const current = space.patient_id === state.space;
    // documents only in an open space; else its life (a parent may oppose a pending one)
    const view = space.status === "open" ? "documents" : "space";
    return h(
      "tr",
      { "aria-current": current ? "true" : null, class: current ? "current" : null },
      h("td", {}, space.patient_id, current ? h("span", { class: "sub" }, t("represented.here")) : null),
      h("td", {}, t(`represented.kind.${space.kind}`)),
      h("td", {}, t(`represented.status.${space.status}`)),
      h("td", {}, space.until ? i18n.when(space.until) : t("grants.never")),
      h(
        "td",
        {},
        h("button", {
          type: "button",
          "aria-label": t("represented.openLabel", { id: space.patient_id }),
          on: { click: () => chooseSpace(space.patient_id, view) },
        }, t("represented.open")),
      ),
    );
  });
  $("view").replaceChildren(
    h("h2", {}, t("nav.represented")),
    h("p", {}, t("represented.intro")),
    state.space ? h("p", {}, t("represented.current", { id: state.space })) : null,
    rows.length
      ? table(
          t("nav.represented"),
          ["represented.person", "represented.kind", "represented.status", "represented.until", "docs.actions"].map((k) => t(k)),
          rows,
        )
      : h("p", {}, t("represented.none")),
    oneFieldForm(
      { id: "r-ins", title: t("represented.switch"), label: t("represented.ins"), submit: t("represented.submit") },
      chooseSpace,
    ),
  );
}

// -- a professional's spaces ------------------------------------------------------------

async function renderSpaces() {
  const listed = await api("GET", "/v1/me/spaces");
  const rows = listed.spaces.map((space) =>
    h(
      "tr",
      {},
      h("td", {}, space.patient_id),
      h("td", {}, scopeText(space.scope), space.care_team ? h("span", { class: "sub" }, t("grants.careTeam")) : null),
      h("td", {}, space.expires_at ? i18n.when(space.expires_at) : t("grants.never")),
      h(
        "td",
        {},
        h("button", {
          type: "button",
          "aria-label": t("spaces.openLabel", { id: space.patient_id }),
          on: { click: () => chooseSpace(space.patient_id) },
        }, t("spaces.open")),
      ),
    ),
  );
  const openSpace = chooseSpace;
  $("view").replaceChildren(
    h("h2", {}, t("nav.spaces")),
    rows.length
      ? table(t("nav.spaces"), [t("spaces.patient"), t("grants.scope"), t("grants.expires"), t("docs.actions")], rows)
      : h("p", {}, t("spaces.none")),
    oneFieldForm({ id: "s-ins", title: t("spaces.find"), label: t("spaces.ins"), submit: t("spaces.findSubmit") }, openSpace),
    h(
      "form",
      {
        "aria-labelledby": "emergency-title",
        class: "emergency",
        on: {
          submit: (event) => {
            event.preventDefault();
            const data = new FormData(event.target);
            const ins = data.get("ins").trim();
            guarded(async () => {
              const access = await api("POST", `${spacePath(ins)}/emergency-accesses`, {
                justification: data.get("justification").trim(),
              });
              state.notice = t("emergency.declared", { until: i18n.when(access.expires_at) });
              openSpace(ins);
            });
          },
        },
      },
      h("h3", { id: "emergency-title" }, t("emergency.title")),
      h("p", {}, t("emergency.intro")),
      field("e-ins", t("spaces.ins"), h("input", { id: "e-ins", name: "ins", required: true, autocomplete: "off" })),
      field(
        "e-justification",
        t("emergency.justification"),
        h("textarea", { id: "e-justification", name: "justification", required: true, rows: 3, maxlength: 2000 }),
      ),
      h("button", { type: "submit" }, t("emergency.submit")),
    ),
  );
}

// -- notifications --------------------------------------------------------------------

async function renderNotifications() {
  const page = await api("GET", "/v1/notifications?limit=50");
  const rows = page.notifications.map((n) =>
    h(
      "tr",
      { class: [n.read ? "" : "unread", n.kind === "emergency_access" ? "emergency" : ""].join(" ").trim() || null },
      h("td", {}, h("time", { datetime: n.at }, i18n.when(n.at))),
      h("td", {}, t(`notif.${n.kind}`) === `notif.${n.kind}` ? n.kind : t(`notif.${n.kind}`)),
      h(
        "td",
        {},
        n.by?.name || "",
        n.by && (n.by.profession || n.by.organisation)
          ? h("span", { class: "sub" }, [i18n.professionName(n.by.profession), n.by.organisation].filter(Boolean).join(" · "))
          : null,
      ),
      h("td", {}, n.read ? t("notif.read") : h("strong", {}, t("notif.unread"))),
    ),
  );
  const newest = page.notifications.length ? Math.max(...page.notifications.map((n) => n.position)) : null;
  $("view").replaceChildren(
    h("h2", {}, t("nav.notifications")),
    h("p", {}, t("notif.count", { n: page.unread })),
    rows.length
      ? table(t("nav.notifications"), [t("log.when"), t("log.what"), t("log.who"), t("grants.state")], rows)
      : h("p", {}, t("notif.none")),
    page.unread && newest !== null
      ? h("button", {
          type: "button",
          on: {
            click: () =>
              guarded(async () => {
                await api("POST", "/v1/notifications/acknowledgements", { up_to: newest });
                await render();
              }),
          },
        }, t("notif.acknowledge"))
      : null,
  );
}

// -- grants ---------------------------------------------------------------------------

function scopeText(scope) {
  if (scope.kind === "types") return t("scope.types", { list: scope.types.map(i18n.typeName).join(", ") });
  if (scope.kind === "documents") return t("scope.documents", { n: scope.documents.length });
  return t("scope.space");
}

function grantState(grant) {
  if (grant.active) return t("grants.active");
  return grant.revoked_at ? t("grants.revoked") : t("grants.expired");
}

/** A professional's RPPS number, name and profession (ids ``prefix-…``; labels from
 * ``words.rpps``, ``words.name``, ``words.profession``), as GranteeIn takes them. */
function professionalFields(prefix, words) {
  return [
    field(`${prefix}-id`, t(`${words}.rpps`), h("input", { id: `${prefix}-id`, name: "id", required: true, inputmode: "numeric", autocomplete: "off" })),
    field(`${prefix}-name`, t(`${words}.name`), h("input", { id: `${prefix}-name`, name: "name", required: true, autocomplete: "off" })),
    field(
      `${prefix}-profession`,
      t(`${words}.profession`),
      h("select", { id: `${prefix}-profession`, name: "profession" }, i18n.professions().map(([value, label]) => h("option", { value }, label))),
    ),
  ];
}

function grantForm() {
  return h(
    "form",
    {
      class: "grant",
      "aria-labelledby": "grant-title",
      on: {
        submit: (event) => {
          event.preventDefault();
          const data = Object.fromEntries(new FormData(event.target).entries());
          guarded(async () => {
            await api("POST", `${spacePath(state.space)}/grants`, {
              grantee: {
                id: data.id.trim(),
                name: data.name.trim(),
                profession: data.profession,
                organisation: data.organisation.trim() || null,
              },
              scope: { kind: "space" },
            });
            await render();
            say(t("grants.granted", { name: data.name.trim() }));
          });
        },
      },
    },
    h("h3", { id: "grant-title" }, t("grants.new")),
    professionalFields("g", "grants"),
    field("g-organisation", t("grants.organisation"), h("input", { id: "g-organisation", name: "organisation", autocomplete: "off" })),
    h("button", { type: "submit" }, t("grants.submit")),
  );
}

async function renderGrants() {
  // one answer for everything that decides who reads: grants (consent or care team),
  // blocks, the attending physician, the settings, the emergency accesses
  const rules = await api("GET", `${spacePath(state.space)}/access-rules`);
  const rows = rules.grants.map((grant) =>
    h(
      "tr",
      { class: grant.active ? null : "inactive" },
      h(
        "td",
        {},
        h("span", { class: "name" }, grant.grantee_name),
        h("span", { class: "sub" }, [i18n.professionName(grant.grantee_profession), grant.grantee_id].filter(Boolean).join(" · ")),
      ),
      h("td", {}, scopeText(grant.scope), grant.basis === "care_team" ? h("span", { class: "sub" }, t("grants.careTeam")) : null),
      h("td", {}, h("time", { datetime: grant.granted_at }, i18n.when(grant.granted_at))),
      h("td", {}, grant.expires_at ? i18n.when(grant.expires_at) : t("grants.never")),
      h("td", {}, grantState(grant)),
      h(
        "td",
        {},
        grant.active && state.actor.role === "patient"
          ? h("button", {
              type: "button",
              "aria-label": t("grants.revokeLabel", { name: grant.grantee_name }),
              on: {
                click: () =>
                  guarded(async () => {
                    await api("DELETE", `${spacePath(state.space)}/grants/${grant.grant_id}`);
                    await render();
                    say(t("grants.revoked.done", { name: grant.grantee_name }));
                  }),
              },
            }, t("grants.revoke"))
          : null,
      ),
    ),
  );
  $("view").replaceChildren(
    h("h2", {}, t("grants.title")),
    rows.length
      ? table(t("grants.title"), ["grants.who", "grants.scope", "grants.since", "grants.expires", "grants.state", "docs.actions"].map((k) => t(k)), rows)
      : h("p", {}, t("grants.empty")),
    state.actor.role === "patient" ? grantForm() : null,
    blocksSection(rules.blocked),
    emergencySection(rules),
  );
}

function blocksSection(blocked) {
  const rows = blocked.map((p) =>
    h(
      "tr",
      {},
      h("td", {}, h("span", { class: "name" }, p.name), h("span", { class: "sub" }, [i18n.professionName(p.profession), p.id].filter(Boolean).join(" · "))),
      h(
        "td",
        {},
        h("button", {
          type: "button",
          class: "secondary",
          "aria-label": t("blocks.unblockLabel", { name: p.name }),
          on: {
            click: () =>
              confirmThen(t("blocks.unblockConfirm", { name: p.name }), t("blocks.unblock"), async () => {
                await api("DELETE", `${spacePath(state.space)}/blocks/${encodeURIComponent(p.id)}`);
                await render();
                say(t("blocks.unblocked", { name: p.name }));
              }),
          },
        }, t("blocks.unblock")),
      ),
    ),
  );
  return h(
    "section",
    { "aria-labelledby": "blocks-title" },
    h("h3", { id: "blocks-title" }, t("blocks.title")),
    h("p", {}, t("blocks.intro")),
    rows.length ? table(t("blocks.title"), [t("grants.who"), t("docs.actions")], rows) : h("p", {}, t("blocks.none")),
    h(
      "form",
      {
        "aria-labelledby": "block-title",
        on: {
          submit: (event) => {
            event.preventDefault();
            const data = Object.fromEntries(new FormData(event.target).entries());
            const name = data.name.trim();
            confirmThen(t("blocks.confirm", { name }), t("blocks.submit"), async () => {
              await api("PUT", `${spacePath(state.space)}/blocks`, {
                id: data.id.trim(),
                name,
                profession: data.profession,
              });
              await render();
              say(t("blocks.done", { name }));
            });
          },
        },
      },
      h("h4", { id: "block-title" }, t("blocks.new")),
      professionalFields("b", "blocks"),
      h("button", { type: "submit", class: "danger" }, t("blocks.submit")),
    ),
  );
}

const SETTINGS = ["emergency_access_forbidden", "emergency_reveals_masked", "attending_physician_sees_masked"];

function emergencySection(rules) {
  const rows = rules.emergency_accesses.map((e) =>
    h(
      "tr",
      { class: e.active ? "emergency" : null },
      h("td", {}, h("span", { class: "name" }, e.professional_name), h("span", { class: "sub" }, e.professional_id)),
      h("td", {}, e.justification),
      h("td", {}, h("time", { datetime: e.started_at }, i18n.when(e.started_at))),
      h("td", {}, e.active ? h("strong", {}, t("grants.active")) : t("grants.expired")),
    ),
  );
  const physician = rules.attending_physician;
  return h(
    "section",
    { "aria-labelledby": "settings-title" },
    h("h3", { id: "settings-title" }, t("settings.title")),
    h("p", {}, physician ? t("settings.physician", { name: physician.name }) : t("settings.noPhysician")),
    h(
      "form",
      {
        on: {
          submit: (event) => {
            event.preventDefault();
            const form = event.target;
            const changed = SETTINGS.filter((name) => form.elements[name].checked !== Boolean(rules.settings[name]));
            confirmThen(t("settings.confirm"), t("settings.submit"), async () => {
              for (const name of changed) {
                await api("PUT", `${spacePath(state.space)}/settings/${name}`, { value: form.elements[name].checked });
              }
              await render();
              say(t("settings.done"));
            });
          },
        },
      },
      h(
        "fieldset",
        {},
        h("legend", {}, t("settings.legend")),
        SETTINGS.map((name) =>
          h(
            "div",
            { class: "check" },
            h("input", { type: "checkbox", id: `s-${name}`, name, checked: Boolean(rules.settings[name]) }),
            " ",
            h("label", { for: `s-${name}` }, t(`settings.${name}`)),
          ),
        ),
      ),
      h("button", { type: "submit" }, t("settings.submit")),
    ),
    h("h4", {}, t("settings.emergencies")),
    rows.length
      ? table(t("settings.emergencies"), [t("grants.who"), t("emergency.justification"), t("log.when"), t("grants.state")], rows)
      : h("p", {}, t("settings.noEmergency")),
  );
}

// -- the space's life -----------------------------------------------------------------

/** What the space's state means, each date that applies on its own line. */
function lifeFacts(life) {
  const facts = [h("p", {}, h("strong", {}, t(`life.status.${life.status}`)))];
  const dated = [
    ["opens_at", life.status === "pending" ? "life.opensAt" : null],
    ["activated_at", "life.activatedAt"],
    ["closed_at", "life.closedAt"],
    ["archive_until", "life.archiveUntil"],
    ["deletion_due_at", "life.deletionDueAt"],
  ];
  for (const [name, key] of dated) {
    if (key && life[name]) facts.push(h("p", {}, t(key, { when: i18n.when(life[name]) })));
  }
  return facts;
}

function codeForm(kind, life) {
  const labels = { title: t(`life.${kind}Title`), label: t(`life.${kind}Code`), submit: t(`life.${kind}`) };
  return oneFieldForm({ id: `l-${kind}`, name: "code", danger: kind === "oppose", ...labels }, (code) =>
    confirmThen(t(`life.${kind}Confirm`), t(`life.${kind}`), async () => {
      await api("POST", `${spacePath(life.patient_id)}/${kind === "oppose" ? "opposition" : "activation"}`, { code });
      await render();
      say(t(`life.${kind}Done`));
    }),
  );
}

async function renderSpaceLife() {
  const life = await api("GET", `${spacePath(state.space)}/state`);
  const parts = [h("h2", {}, t("life.title")), ...lifeFacts(life)];
  if (life.status === "pending") parts.push(h("p", {}, t("life.pendingIntro")), codeForm("activate", life), codeForm("oppose", life));
  if (life.status === "open") {
    parts.push(
      h(
        "form",
        {
          "aria-labelledby": "close-title",
          on: {
            submit: (event) => {
              event.preventDefault();
              const express = event.target.elements.express.checked;
              confirmThen(t(express ? "life.closeExpressConfirm" : "life.closeConfirm"), t("life.close"), async () => {
                await api("POST", `${spacePath(state.space)}/closure`, { express_deletion: express });
                await render();
                say(t("life.closed"));
              });
            },
          },
        },
        h("h3", { id: "close-title" }, t("life.closeTitle")),
        h("p", {}, t("life.closeIntro")),
        h("div", { class: "check" },
          h("input", { type: "checkbox", id: "l-express", name: "express" }),
          " ",
          h("label", { for: "l-express" }, t("life.express"))),
        h("button", { type: "submit", class: "danger" }, t("life.close")),
      ),
    );
  }
  // a closed space waits for its archive's end unless deletion was asked (due sooner)
  const asked = life.deletion_due_at && life.archive_until && life.deletion_due_at < life.archive_until;
  if (life.status === "closed" && !asked) {
    parts.push(
      h("h3", {}, t("life.deletionTitle")),
      h("button", {
        type: "button",
        class: "danger",
        on: {
          click: () =>
            confirmThen(t("life.deletionConfirm"), t("life.deletion"), async () => {
              await api("POST", `${spacePath(state.space)}/deletion-request`);
              await render();
              say(t("life.deletionDone"));
            }),
        },
      }, t("life.deletion")),
    );
  }
  $("view").replaceChildren(...parts);
}

// -- this device ----------------------------------------------------------------------

async function addDevice(name) {
  const { role, id } = state.actor;
  const device = await createDevice(role, id);
  const challenge = await api("POST", "/v1/devices/challenges");
  const message = proofMessage(challenge.challenge, challenge.role, challenge.id, device.signingKey, name);
  const signature = b64(await device.sign(message));
  await api("POST", "/v1/devices", {
    signing_key: device.signingKey,
    name,
    challenge: challenge.challenge,
    signature,
  });
}

async function renderDevice() {
  const { role, id } = state.actor;
  const device = await loadDevice(role, id);
  const listed = await api("GET", "/v1/devices");
  const mine = device ? listed.devices.find((d) => d.key_id === device.keyId) : null;
  const parts = [h("h2", {}, t("device.title")), h("p", {}, t("device.intro"))];
  if (!device || !mine) {
    parts.push(
      h("p", {}, t("device.none")),
      h(
        "form",
        {
          on: {
            submit: (event) => {
              event.preventDefault();
              const name = new FormData(event.target).get("name").trim() || t("device.defaultName");
              guarded(async () => {
                await addDevice(name);
                await render();
              });
            },
          },
        },
        h("div", { class: "field" },
          h("label", { for: "d-name" }, t("device.name")),
          h("input", { id: "d-name", name: "name", value: t("device.defaultName"), autocomplete: "off" })),
        h("button", { type: "submit" }, t("device.add")),
      ),
    );
  } else if (mine.status === "pending" && !["patient", "representative"].includes(role)) {
    parts.push(h("p", {}, t("device.pending", { id: mine.key_id })), h("p", {}, t("device.byService")));
  } else if (mine.status === "pending") {
    parts.push(
      h("p", {}, t("device.pending", { id: mine.key_id })),
      h(
        "form",
        {
          on: {
            submit: (event) => {
              event.preventDefault();
              const code = new FormData(event.target).get("code").trim();
              guarded(async () => {
                await api("POST", `/v1/devices/${encodeURIComponent(mine.key_id)}/approval`, { code });
                await render();
              });
            },
          },
        },
        h("div", { class: "field" },
          h("label", { for: "d-code" }, t("device.code")),
          h("input", { id: "d-code", name: "code", required: true, autocomplete: "one-time-code" })),
        h("button", { type: "submit" }, t("device.approve")),
      ),
    );
  } else {
    parts.push(h("p", {}, t(mine.status === "approved" ? "device.approved" : "device.revoked", { id: mine.key_id })));
  }
  const rows = listed.devices.map((d) =>
    h(
      "tr",
      {},
      h("td", {}, d.name || d.key_id, device && d.key_id === device.keyId ? ` ${t("device.this")}` : ""),
      h("td", {}, t(`status.${d.status}`)),
      h("td", {}, h("time", { datetime: d.requested_at }, i18n.when(d.requested_at))),
      h(
        "td",
        {},
        d.status !== "revoked"
          ? h("button", {
              type: "button",
              "aria-label": t("device.revokeLabel", { name: d.name || d.key_id }),
              on: {
                click: () =>
                  guarded(async () => {
                    await api("DELETE", `/v1/devices/${encodeURIComponent(d.key_id)}`);
                    if (device && d.key_id === device.keyId) await forgetDevice(role, id);
                    await render();
                  }),
              },
            }, t("device.revoke"))
          : null,
      ),
    ),
  );
  if (rows.length) {
    parts.push(
      h("h3", {}, t("device.list")),
      table(t("device.list"), [t("grants.name"), t("grants.state"), t("log.when"), t("docs.actions")], rows),
    );
  }
  $("view").replaceChildren(...parts);
}

// -- start ----------------------------------------------------------------------------

function route() {
  const wanted = window.location.hash.replace("#", "");
  const known = views();
  state.view = wanted in known ? wanted : Object.keys(known)[0];
}

async function start() {
  i18n.initLanguage();
  route();
  $("lang").addEventListener("click", () => {
    i18n.toggleLanguage();
    render();
  });
  window.addEventListener("hashchange", () => {
    route();
    render().then(() => $("main").focus());
  });
  try {
    state.actor = await whoAmI();
  } catch (error) {
    alarm(failure(error));
  }
  if (state.actor?.role === "patient") state.space = state.actor.id;
  else if (state.actor) state.space = window.sessionStorage.getItem(CHOSEN_SPACE);
  route(); // the views depend on who logged in
  await render();
  document.body.dataset.ready = "true"; // the tests wait for this
}

start();
