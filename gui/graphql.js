// GraphQL for the dashboard: queries over HTTP, subscriptions over graphql-transport-ws.
// The same schema as every other client; a token (for a shared server) is kept in
// localStorage and sent with each request.

const ENDPOINT = new URL("graphql", document.baseURI);

export function token() {
  return localStorage.getItem("jobmonToken") || "";
}

export function setToken(value) {
  localStorage.setItem("jobmonToken", value.trim());
}

export class NeedsToken extends Error {}

export async function query(document, variables = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document, variables }),
  });
  const body = await response.json();
  if (response.status === 401) throw new NeedsToken(body.errors[0].message);
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

// Follows a subscription; on a dropped connection it reconnects with the last cursor seen
// (streams that have one), so nothing is missed or seen twice. Returns a function to stop.
export function subscribe(document, variables, onData, field) {
  let socket = null;
  let stopped = false;
  let cursor = variables.after ?? null;
  const open = () => {
    if (stopped) return;
    const url = new URL(ENDPOINT);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url, "graphql-transport-ws");
    // The token goes in connection_init, never in the URL: URLs end up in access logs.
    socket.onopen = () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { token: token() } }));
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "connection_ack") {
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
      if (!stopped) setTimeout(open, 1000);
    };
  };
  open();
  return () => {
    stopped = true;
    if (socket) socket.close();
  };
}
