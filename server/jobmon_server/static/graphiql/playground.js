// Starts GraphiQL against this server's GraphQL endpoint.
//
// Queries and mutations go over HTTP POST to the same origin; subscriptions go over
// the graphql-transport-ws protocol to the same path on ws:// (or wss:// behind TLS).
// The endpoint path comes from <meta name="jobmon-graphql-path">, default /graphql.
(function () {
  "use strict";

  var DEFAULT_QUERY = [
    "# Welcome to Jobmon. Examples (press the play button and pick one):",
    "query WorkflowStatus($id: Int! = 1) {",
    "  workflow(id: $id) {",
    "    __typename",
    "    ... on Workflow { id name status totalTasks taskCounts { status count } latestRun { id status } }",
    "    ... on NotFound { message }",
    "  }",
    "}",
    "query WorkflowErrors($id: Int! = 1) {",
    "  workflow(id: $id) { ... on Workflow { errors(first: 20) { items { taskId taskName description time } } } }",
    "}",
    "",
  ].join("\n");

  var meta = document.querySelector('meta[name="jobmon-graphql-path"]');
  var path = (meta && meta.getAttribute("content")) || "/graphql";
  var loc = window.location;
  var httpUrl = loc.protocol + "//" + loc.host + path;
  var wsUrl = (loc.protocol === "https:" ? "wss:" : "ws:") + "//" + loc.host + path;

  var fetcher = GraphiQL.createFetcher({
    url: httpUrl,
    subscriptionUrl: wsUrl,
    wsClient: graphqlWs.createClient({ url: wsUrl }),
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      storage: GraphiQL.createLocalStorage({ namespace: "jobmon" }),
    })
  );
})();
