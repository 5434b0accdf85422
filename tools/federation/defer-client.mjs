#!/usr/bin/env node
// Sends one query with `@defer` to a GraphQL endpoint asking for incremental
// delivery, and parses the multipart answer with npm `meros` (the parser GraphiQL
// and graphql-helix use), for the router's @defer tests.
//
//   node tools/federation/defer-client.mjs URL QUERY
//
// Prints one line as soon as the response head arrives: `{"status":…,"contentType":…}`,
// then one line per part the moment meros yields it: the part's JSON. Lines are
// written unbuffered so that the caller can act on a part while the next is pending.
// Exit code 0 once the stream ends; 1 if the answer is not multipart; 2 on bad usage.

import { writeSync } from "node:fs";
import { meros } from "meros/browser";
import { UsageError, runCli } from "./cli.mjs";

const line = (value) => writeSync(1, `${JSON.stringify(value)}\n`);

async function main(argv) {
  const [url, query] = argv;
  if (argv.length !== 2 || !/^https?:\/\//.test(url)) throw new UsageError("usage: defer-client.mjs URL QUERY");
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "multipart/mixed;deferSpec=20220824, application/json",
    },
    body: JSON.stringify({ query }),
  });
  line({ status: response.status, contentType: response.headers.get("content-type") });
  const parts = await meros(response);
  if (!parts || typeof parts[Symbol.asyncIterator] !== "function") {
    line({ notMultipart: await response.text().catch(() => "") });
    return 1;
  }
  for await (const part of parts) {
    line(part.json ? part.body : { text: String(part.body) });
  }
  return 0;
}

await runCli("defer-client", main);
