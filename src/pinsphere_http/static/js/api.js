// The REST API, as the web UI uses it: a cookie session (HttpOnly, so no script can read
// the tokens), the CSRF token sent back on every change, and one refresh at a time across
// all the tabs of this browser.

const CSRF_COOKIE = "pinsphere_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** An error answer of the API (an RFC 9457 problem when the service sent one). */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
  }
}

function readCookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** Whether this browser holds a session (its CSRF cookie is there). */
export function hasSession() {
  return readCookie(CSRF_COOKIE) !== "";
}

function csrfHeaders(method) {
  if (SAFE.has(method)) return {};
  return { [CSRF_HEADER]: readCookie(CSRF_COOKIE) || "web" };
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return null;
}

let refreshing = null;
let refreshTimer = 0;

function scheduleRefresh(seconds) {
  clearTimeout(refreshTimer);
  // Refresh a little before the access token expires, so that media requests (which cannot
  // retry) never meet an expired session.
  refreshTimer = setTimeout(() => refreshSession().catch(() => {}), Math.max(10, seconds * 0.8) * 1000);
}

async function doRefresh() {
  const probe = await fetch("/api/v1/users/me", { credentials: "same-origin" });
  if (probe.ok) return { user: await probe.json(), expires_in: 60 };
  const response = await fetch("/api/v1/auth/session/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: csrfHeaders("POST"),
  });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return response.json();
}

/** Rotate the session once, whoever asks (and whichever tab: the Web Locks API). */
export function refreshSession() {
  if (!refreshing) {
    const run = navigator.locks
      ? navigator.locks.request("pinsphere-session-refresh", doRefresh)
      : doRefresh();
    refreshing = run
      .then((session) => {
        scheduleRefresh(session.expires_in);
        return session;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/**
 * Call the API.
 * @param {string} path e.g. "/api/v1/pins?q=tag:cats"
 * @param {{method?: string, json?: any, form?: URLSearchParams|FormData, headers?: Record<string,string>, retry?: boolean}} [options]
 * @returns {Promise<any>} the JSON answer, or null for an empty one
 */
export async function api(path, { method = "GET", json, form, headers = {}, retry = true } = {}) {
  const init = { method, credentials: "same-origin", headers: { ...csrfHeaders(method), ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  const response = await fetch(path, init);
  if (response.status === 401 && retry && hasSession() && !path.startsWith("/api/v1/auth/session")) {
    try {
      await refreshSession();
    } catch {
      window.dispatchEvent(new CustomEvent("session-lost"));
      throw new ApiError(401, await problemOf(response));
    }
    return api(path, { method, json, form, headers, retry: false });
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** Sign in with a password; the answer is {user, expires_in}. */
export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const session = await api("/api/v1/auth/session", { method: "POST", form, headers: { [CSRF_HEADER]: "sign-in" } });
  scheduleRefresh(session.expires_in);
  return session;
}

/** Sign out (the service clears the cookies). */
export async function signOut() {
  clearTimeout(refreshTimer);
  await api("/api/v1/auth/session", { method: "DELETE" });
}

/** The signed-in user, or null; refreshes an expired session once. */
export async function currentUser() {
  if (!hasSession()) return null;
  try {
    const user = await api("/api/v1/users/me");
    scheduleRefresh(30);
    return user;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/**
 * Upload one file as a pin, reporting progress (XMLHttpRequest: fetch cannot report upload
 * progress).
 * @param {File} file
 * @param {Record<string, string|string[]>} fields title, description, tags, board, visibility
 * @param {(sent: number, total: number) => void} onProgress
 * @returns {{promise: Promise<any>, abort: () => void}}
 */
export function uploadPin(file, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      for (const item of Array.isArray(value) ? value : [value]) if (item) body.append(name, item);
    }
    body.append("file", file, file.name);
    xhr.open("POST", "/api/v1/pins");
    xhr.withCredentials = true;
    xhr.setRequestHeader(CSRF_HEADER, readCookie(CSRF_COOKIE));
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) resolve(xhr.response);
      else reject(new ApiError(xhr.status, xhr.response));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { detail: "the connection failed" })));
    xhr.addEventListener("abort", () => reject(new ApiError(0, { detail: "cancelled" })));
    xhr.send(body);
  });
  return { promise, abort: () => xhr.abort() };
}
