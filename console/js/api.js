// The console REST client: bearer token, JSON in and out, errors as ApiError (status, code, field).
const base = ((window.MDS_CONSOLE && window.MDS_CONSOLE.apiBase) || "").replace(/\/$/, "");
const SESSION = "mds.session";

export class ApiError extends Error {
  constructor(status, body) {
    const data = body && typeof body === "object" ? body : {};
    super(data.message || `The server answered ${status}.`);
    this.status = status;
    this.code = data.code || "Error";
    this.field = data.field || null;
    this.requestId = data.requestId || null;
  }
}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION) || "null");
  } catch {
    return null;
  }
}

export function saveSession(value) {
  if (value) sessionStorage.setItem(SESSION, JSON.stringify(value));
  else sessionStorage.removeItem(SESSION);
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const current = session();
  if (current && current.token) headers.Authorization = `Bearer ${current.token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(base + path, init);
  } catch (err) {
    throw new ApiError(0, { code: "NetworkError", message: "The API cannot be reached. Is the stack running?" });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && current && path !== "/api/auth/login") {
      window.dispatchEvent(new CustomEvent("mds:session-expired", { detail: error.message }));
    }
    throw error;
  }
  return data;
}

export const api = {
  get: (path, query) => request("GET", path + queryString(query)),
  post: (path, body) => request("POST", path, body ?? {}),
  put: (path, body) => request("PUT", path, body ?? {}),
  patch: (path, body) => request("PATCH", path, body ?? {}),
  del: (path) => request("DELETE", path),
};

export function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
