// Calls to Coffre's JSON API from the page. The session is the backend-for-frontend's
// cookie (HttpOnly: no token is ever readable here); unsafe methods carry the session's
// CSRF token in X-CSRF-Token. Errors are the API's problem+json documents.

let csrf = null;

/** An API answer that is not a success: its status and problem document. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
  }
}

/** Call the API; the JSON answer, or null for 204. A Blob body is sent as it is (an
 * upload's ciphertext), anything else as JSON. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json, application/problem+json" };
  const raw = body instanceof Blob;
  if (body !== undefined) headers["Content-Type"] = raw ? "application/octet-stream" : "application/json";
  if (csrf && !["GET", "HEAD"].includes(method)) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined || raw ? body : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Who is signed in: `{role, id, name}`, or null. The bff's session when it answers
 * (it also gives the CSRF token); else the caller the API sees (GET /v1/devices names
 * its owner), for deployments that authenticate by other means. */
export async function whoAmI() {
  try {
    const session = await api("GET", "/auth/session");
    if (session && session.id) {
      csrf = session.csrf_token || null;
      return { role: session.role, id: session.id, name: session.name };
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  try {
    const devices = await api("GET", "/v1/devices");
    return { role: devices.role, id: devices.id, name: null };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
    throw error;
  }
}

/** End the bff session. */
export async function logout() {
  await api("POST", "/auth/logout");
}

/** The API path of a patient's space. */
export function spacePath(patientId) {
  return `/v1/spaces/${encodeURIComponent(patientId)}`;
}
