#!/usr/bin/env node
// Apollo Gateway (the JavaScript reference implementation of federation) serving
// one supergraph: the yardstick of the router's differential test and benchmark.
//
//   node tools/federation/apollo-gateway.mjs --supergraph SUPERGRAPH [--port 0] [--host 127.0.0.1] [--exit-with-stdin]
//
// The subgraph URLs are the supergraph's own `join__graph(url:)`. The client's
// Authorization header is passed on to every subgraph, as the router does. When
// listening, one line `apollo-gateway listening on http://HOST:PORT` goes to
// stdout (GraphQL is served at that URL's `/` and `/graphql` alike). With
// `--exit-with-stdin` the gateway stops when its stdin closes, so a test that dies
// never leaves it behind.

import { parseArgs } from "node:util";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { UsageError, readText, runCli } from "./cli.mjs";

const USAGE =
  "usage: apollo-gateway.mjs --supergraph SUPERGRAPH [--port PORT] [--host HOST] [--exit-with-stdin]";

/** Sends each subgraph the Authorization header the client sent the gateway. */
class AuthorizationForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context?.authorization) {
      request.http.headers.set("authorization", context.authorization);
    }
  }
}

function parseCommandLine(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        supergraph: { type: "string" },
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        "exit-with-stdin": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(`${err.message}\n${USAGE}`);
  }
  if (values.help) return { help: true };
  if (!values.supergraph) throw new UsageError(USAGE);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a port number (0 picks a free one), got ${JSON.stringify(values.port)}`);
  }
  return { supergraph: values.supergraph, port, host: values.host, exitWithStdin: values["exit-with-stdin"] };
}

async function main(argv) {
  const options = parseCommandLine(argv);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const supergraphSdl = readText(options.supergraph, "supergraph");
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) => new AuthorizationForwardingDataSource({ url }),
  });
  const server = new ApolloServer({
    gateway,
    introspection: true,
    // Stack traces would make every error differ from the router's for no reason.
    includeStacktraceInErrorResponses: false,
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: options.port, host: options.host },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  const { port } = new URL(url);
  process.stdout.write(`apollo-gateway listening on http://${options.host}:${port}\n`);

  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  if (options.exitWithStdin) {
    process.stdin.on("end", stop);
    process.stdin.on("error", stop);
    process.stdin.resume();
  }
  return 0;
}

await runCli("apollo-gateway", main);
