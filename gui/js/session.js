// Who the dashboard acts as: the token for a server with tokens (sent as a Bearer header
// over HTTP and in connection_init over the websocket) and, on a server without tokens,
// the user name the steering mutations carry, as the CLI sends the login name.

const TOKEN = "jobmonToken";
const USER = "jobmonUser";

export function token() {
  return localStorage.getItem(TOKEN) || "";
}

export function setToken(value) {
  localStorage.setItem(TOKEN, (value || "").trim());
}

export function user() {
  return localStorage.getItem(USER) || "";
}

export function setUser(value) {
  localStorage.setItem(USER, (value || "").trim());
}

export function httpHeaders() {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  return headers;
}

export function connectionInitPayload() {
  return token() ? { token: token() } : {};
}
