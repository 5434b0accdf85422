#!/usr/bin/env node
// Apollo Client (with its persisted-queries link) against a live router, for the
// router's persisted-query tests.
//
//   node tools/federation/apollo-client.mjs manifest OPERATION...
//   node tools/federation/apollo-client.mjs run URL [--get] OPERATION...
//
// `manifest` prints a trusted-documents manifest in Apollo's persisted-query manifest
// format listing the OPERATIONs (GraphQL documents), with the bodies and ids Apollo
// Client sends for them (as `generate-persisted-query-manifest` would write it).
// `run` sends each OPERATION once, in order, through ApolloClient + the persisted-queries
// link + HttpLink (`--get`: hashed queries over GET), and prints one JSON object:
// `{ requests: [{ method, url, body }], results: [{ data, errors }] }`, where `requests`
// is every HTTP request the client made, as it made it. Exit code 0 whatever the
// results (the caller judges them); 2 on bad usage.

import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { print } from "graphql";
import { UsageError, runCli } from "./cli.mjs";

const USAGE = "usage: apollo-client.mjs manifest OPERATION... | run URL [--get] OPERATION...";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === "manifest" && rest.length > 0) return manifest(rest);
  if (command === "run" && rest.length > 1 && /^https?:\/\//.test(rest[0])) {
    const [url, ...operations] = rest;
    const useGet = operations[0] === "--get";
    return run(url, useGet, useGet ? operations.slice(1) : operations);
  }
  throw new UsageError(USAGE);
}

function manifest(operations) {
  const entries = operations.map((source) => {
    const document = gql(source);
    const definition = document.definitions.find((d) => d.kind === "OperationDefinition");
    const body = print(document);
    return { id: sha256(body), name: definition?.name?.value ?? null, type: definition?.operation ?? "query", body };
  });
  process.stdout.write(
    `${JSON.stringify({ format: "apollo-persisted-query-manifest", version: 1, operations: entries })}\n`,
  );
  return 0;
}

async function run(url, useGet, operations) {
  const requests = [];
  // Records each request exactly as the client sends it, then sends it.
  const recordingFetch = async (input, init = {}) => {
    let body = null;
    if (typeof init.body === "string") body = JSON.parse(init.body);
    requests.push({ method: init.method ?? "GET", url: String(input), body });
    return fetch(input, init);
  };
  const client = new ApolloClient({
    // The cache would otherwise add __typename to every selection, and answer repeats itself.
    cache: new InMemoryCache({ addTypename: false }),
    link: ApolloLink.from([
      createPersistedQueryLink({ sha256, useGETForHashedQueries: useGet }),
      new HttpLink({ uri: url, fetch: recordingFetch }),
    ]),
  });
  const results = [];
  for (const source of operations) {
    try {
      const result = await client.query({ query: gql(source), fetchPolicy: "no-cache", errorPolicy: "all" });
      results.push({ data: result.data ?? null, errors: (result.errors ?? []).map(describeError) });
    } catch (error) {
      results.push({ data: null, errors: describeNetworkError(error) });
    }
  }
  process.stdout.write(`${JSON.stringify({ requests, results })}\n`);
  return 0;
}

function describeError(error) {
  return { message: error.message, code: error.extensions?.code ?? null };
}

/** Errors of a failed query: the GraphQL errors of the response when there is one. */
function describeNetworkError(error) {
  const fromBody = error.networkError?.result?.errors ?? error.graphQLErrors ?? [];
  if (fromBody.length > 0) return fromBody.map(describeError);
  return [{ message: String(error.message ?? error), code: null }];
}

await runCli("apollo-client", main);
