#!/usr/bin/env node
// The GraphQL-over-HTTP conformance audit of `graphql-http` against a live server.
//
//   node tools/federation/audit.mjs URL
//
// URL is the GraphQL endpoint (e.g. http://127.0.0.1:4000/graphql). Prints one JSON
// array on stdout, one entry per check: `{ id, name, status, reason }`, where `name`
// starts with MUST, SHOULD or MAY and `status` is `ok`, or `error` (a MUST failed),
// `warn` (a SHOULD failed) or `notice` (a MAY failed). Exit code 0 whatever the
// results (the caller judges them); 2 on bad usage.

import { auditServer } from "graphql-http";
import { UsageError, runCli } from "./cli.mjs";

async function main(argv) {
  if (argv.length !== 1 || !/^https?:\/\//.test(argv[0])) {
    throw new UsageError("usage: audit.mjs URL (the server's GraphQL endpoint, http:// or https://)");
  }
  const results = await auditServer({ url: argv[0] });
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
