#!/usr/bin/env node
// The GraphQL-over-HTTP conformance audit of `graphql-http` against a live server.
//
//   node tools/federation/audit.mjs URL [--header NAME=VALUE]...
//
// URL is the GraphQL endpoint (e.g. http://127.0.0.1:4000/graphql). Each --header is
// added to every request of the audit (e.g. `apollo-require-preflight=true` for a router
// with CSRF prevention, which the audit's GET requests would otherwise meet). Prints one JSON
// array on stdout, one entry per check: `{ id, name, status, reason }`, where `name`
// starts with MUST, SHOULD or MAY and `status` is `ok`, or `error` (a MUST failed),
// `warn` (a SHOULD failed) or `notice` (a MAY failed). Exit code 0 whatever the
// results (the caller judges them); 2 on bad usage.

import { auditServer } from "graphql-http";
import { UsageError, runCli } from "./cli.mjs";

const USAGE = "usage: audit.mjs URL [--header NAME=VALUE]... (URL: the server's GraphQL endpoint, http:// or https://)";

async function main(argv) {
  const [url, ...rest] = argv;
  if (!url || !/^https?:\/\//.test(url)) throw new UsageError(USAGE);
  const extraHeaders = [];
  for (let i = 0; i < rest.length; i += 2) {
    const pair = rest[i + 1];
    if (rest[i] !== "--header" || !pair || !pair.includes("=")) throw new UsageError(USAGE);
    const at = pair.indexOf("=");
    extraHeaders.push([pair.slice(0, at), pair.slice(at + 1)]);
  }
  const fetchFn = (input, init = {}) => {
    const headers = new Headers(init.headers);
    for (const [name, value] of extraHeaders) headers.set(name, value);
    return fetch(input, { ...init, headers });
  };
  const results = await auditServer({ url, fetchFn });
  const report = await Promise.all(
    results.map(async (result) => ({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.status === "ok" ? undefined : await describeFailure(result),
    })),
  );
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return 0;
}

/** The failure's reason, with the response that caused it when there is one. */
async function describeFailure(result) {
  const response = result.response;
  if (!response) return result.reason;
  let body = "";
  try {
    body = await response.text();
  } catch {
    body = "<body already read>";
  }
  return `${result.reason} (got HTTP ${response.status}: ${body.slice(0, 300)})`;
}

await runCli("audit", main);
