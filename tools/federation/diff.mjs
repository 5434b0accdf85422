#!/usr/bin/env node
// Compares the client-facing API of two supergraphs and fails on breaking changes
// that nobody acknowledged.
//
//   node tools/federation/diff.mjs OLD_SUPERGRAPH NEW_SUPERGRAPH [--ack schema/breaking-changes.txt]
//
// Both files are supergraph SDLs (what compose.mjs prints). Federation internals
// (join/link directives, @inaccessible elements) are stripped first, so only the
// schema clients see is compared, with @graphql-inspector/core.
//
// Every change is listed. Exit 1 when a BREAKING change is not acknowledged in
// the ack file, 0 otherwise, 2 on bad usage. The ack file holds one acknowledged
// change per line as `<CHANGE_TYPE> <path>: <reason>`, using the identifier this
// script prints for the change (e.g. `FIELD_REMOVED User.email: moved to profiles`);
// blank lines and lines starting with `#` are ignored.

import { buildASTSchema, parse } from "graphql";
import { transformSupergraphToPublicSchema } from "@theguild/federation-composition";
import { CriticalityLevel, diff } from "@graphql-inspector/core";
import { UsageError, readText, runCli } from "./cli.mjs";

const USAGE = "usage: diff.mjs OLD_SUPERGRAPH NEW_SUPERGRAPH [--ack FILE]";

/** The API schema clients see through the router, built from a supergraph SDL file. */
function apiSchema(path) {
  const source = readText(path, "supergraph");
  try {
    return buildASTSchema(transformSupergraphToPublicSchema(parse(source)));
  } catch (err) {
    throw new UsageError(`${path}: not a valid supergraph SDL: ${err.message}`);
  }
}

/** How a change is named in output and in the ack file. */
function changeId(change) {
  return `${change.type} ${change.path ?? change.message}`;
}

/** The acknowledged change ids of an ack file, each with its (mandatory) reason. */
function readAcknowledgements(path) {
  const acknowledged = new Map();
  readText(path, "acknowledgements file")
    .split("\n")
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const colon = line.indexOf(": ");
      const id = colon === -1 ? line : line.slice(0, colon).trim();
      const reason = colon === -1 ? "" : line.slice(colon + 2).trim();
      if (!/^[A-Z_]+ \S/.test(id) || reason === "") {
        throw new UsageError(
          `${path}:${index + 1}: expected "<CHANGE_TYPE> <path>: <reason>", got ${JSON.stringify(line)}`,
        );
      }
      acknowledged.set(id, reason);
    });
  return acknowledged;
}

function parseCommandLine(argv) {
  const files = [];
  let ack = null;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--ack") {
      ack = argv[i + 1];
      i += 1;
      if (!ack) throw new UsageError(USAGE);
    } else if (argv[i].startsWith("--ack=")) {
      ack = argv[i].slice("--ack=".length);
    } else if (argv[i].startsWith("-")) {
      throw new UsageError(`unknown option ${argv[i]}\n${USAGE}`);
    } else {
      files.push(argv[i]);
    }
  }
  if (files.length !== 2) throw new UsageError(USAGE);
  return { oldPath: files[0], newPath: files[1], ack };
}

async function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { oldPath, newPath, ack } = parseCommandLine(argv);
  const acknowledged = ack ? readAcknowledgements(ack) : new Map();
  const changes = await diff(apiSchema(oldPath), apiSchema(newPath));
  if (changes.length === 0) {
    process.stdout.write("schema diff: the API schema is unchanged\n");
    return 0;
  }

  const unacknowledged = [];
  process.stdout.write(`schema diff: ${changes.length} change(s) to the API schema:\n`);
  for (const change of changes) {
    const id = changeId(change);
    const level = change.criticality.level;
    let note = "";
    if (level === CriticalityLevel.Breaking) {
      const reason = acknowledged.get(id);
      if (reason === undefined) unacknowledged.push(change);
      note = reason === undefined ? " (NOT acknowledged)" : ` (acknowledged: ${reason})`;
    }
    process.stdout.write(`  ${level.padEnd(12)} ${id} -- ${change.message}${note}\n`);
  }
  if (unacknowledged.length === 0) return 0;

  process.stderr.write(
    `schema diff: ${unacknowledged.length} breaking change(s) to the API schema are not acknowledged:\n`,
  );
  for (const change of unacknowledged) {
    process.stderr.write(`  - ${change.message} [${changeId(change)}]\n`);
  }
  process.stderr.write(
    `If a change is intended, add a line "<change id>: <reason>" for it to ${ack ?? "the --ack file"}, e.g.\n` +
      `  ${changeId(unacknowledged[0])}: <why clients can live with it>\n`,
  );
  return 1;
}

await runCli("schema diff", main);
