// GraphQL transport: queries over HTTP, subscriptions over graphql-transport-ws. A failed
// connection marks the server unreachable (the page shows a banner and retries); the
// first answer after that clears it.
import { connectionInitPayload, httpHeaders } from "./session.js";

const ENDPOINT = new URL("graphql", document.baseURI);

export class NeedsToken extends Error {}
export class Unreachable extends Error {}

export const network = {
  unreachable: false,
  listeners: new Set(),
  set(value) {
    if (this.unreachable === value) return;
    this.unreachable = value;
    for (const listener of this.listeners) listener(value);
  },
};

export async function query(document, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: httpHeaders(),
      body: JSON.stringify({ query: document, variables }),
    });
  } catch (exc) {
    network.set(true);
    throw new Unreachable("The Jobmon server is unreachable; retrying.");
  }
  if (response.status >= 502) {
    network.set(true);
    throw new Unreachable(`The Jobmon server answered ${response.status}; retrying.`);
  }
  network.set(false);
  const body = await response.json();
  if (response.status === 401) throw new NeedsToken(body.errors[0].message);
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

// A result union's value, or an Error with the server's message (NotFound, PermissionDenied…).
export function expect(value, typename) {
  if (value && value.__typename === typename) return value;
  throw new Error(value?.message || `unexpected answer ${value?.__typename}`);
}

// Follows a subscription; on a dropped connection it reconnects with the last cursor seen,
// so nothing is missed or seen twice. Returns a function to stop.
export function subscribe(document, variables, onData, field, onLive = null) {
  let socket = null;
  let stopped = false;
  let cursor = variables.after ?? null;
  let delay = 500;
  const open = () => {
    if (stopped) return;
    const url = new URL(ENDPOINT);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url, "graphql-transport-ws");
    socket.onopen = () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: connectionInitPayload() }));
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "connection_ack") {
        delay = 500;
        network.set(false);
        if (onLive) onLive();
        const vars = field ? { ...variables, after: cursor } : variables;
        socket.send(
          JSON.stringify({ id: "1", type: "subscribe", payload: { query: document, variables: vars } }),
        );
      } else if (data.type === "next" && data.payload.data) {
        const item = data.payload.data[field || Object.keys(data.payload.data)[0]];
        if (field && item.cursor) cursor = item.cursor;
        onData(item);
      } else if (data.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      }
    };
    socket.onclose = () => {
      if (stopped) return;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();
  return () => {
    stopped = true;
    if (socket) socket.close();
  };
}
