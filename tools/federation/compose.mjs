#!/usr/bin/env node
// Composes subgraph SDLs into a supergraph SDL (the equivalent of
// `rover supergraph compose --config supergraph.yaml`), with The Guild's
// open-source composition library so it runs offline once `npm ci` is done.
//
//   node tools/federation/compose.mjs --config supergraph.yaml
//   node tools/federation/compose.mjs users=http://127.0.0.1:8001/graphql=subgraphs/users/schema.graphql ...
//
// The supergraph SDL goes to stdout; composition errors go to stderr with exit code 1;
// bad usage or unreadable files exit with 2.

import { dirname, resolve } from "node:path";
import { parse } from "graphql";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";
import YAML from "yaml";
import { UsageError, readText, runCli } from "./cli.mjs";

const USAGE = `usage: compose.mjs --config supergraph.yaml   (- for stdin)
       compose.mjs NAME=ROUTING_URL=SDL_FILE [NAME=ROUTING_URL=SDL_FILE ...]`;

/** The subgraphs named on the command line as `name=routing_url=path`. */
function subgraphsFromArguments(args) {
  return args.map((arg) => {
    const first = arg.indexOf("=");
    const last = arg.lastIndexOf("=");
    if (first <= 0 || last === first || last === arg.length - 1) {
      throw new UsageError(`expected NAME=ROUTING_URL=SDL_FILE, got ${JSON.stringify(arg)}`);
    }
    return {
      name: arg.slice(0, first),
      url: arg.slice(first + 1, last),
      file: resolve(arg.slice(last + 1)),
    };
  });
}

/**
 * The subgraphs of a rover-style `supergraph.yaml` (`-` reads it from stdin). As in
 * rover, schema files are relative to the config file (to the working directory for
 * stdin); only `schema: { file: ... }` is supported, since the point is composing the
 * committed SDLs without running anything.
 */
function subgraphsFromConfig(configPath) {
  const fromStdin = configPath === "-";
  const text = readText(fromStdin ? 0 : configPath, "supergraph config");
  let config;
  try {
    config = YAML.parse(text);
  } catch (err) {
    throw new UsageError(`${configPath}: not valid YAML: ${err.message}`);
  }
  const version = String(config?.federation_version ?? "");
  if (version && !/^=?2(\.|$)/.test(version)) {
    throw new UsageError(`${configPath}: only Federation 2 is supported, federation_version is ${version}`);
  }
  const entries = Object.entries(config?.subgraphs ?? {});
  if (entries.length === 0) {
    throw new UsageError(`${configPath}: no subgraphs listed under "subgraphs:"`);
  }
  const base = fromStdin ? process.cwd() : dirname(resolve(configPath));
  return entries.map(([name, subgraph]) => {
    const file = subgraph?.schema?.file;
    if (typeof file !== "string") {
      throw new UsageError(`${configPath}: subgraph ${name} needs "schema: { file: <path> }"`);
    }
    if (typeof subgraph.routing_url !== "string") {
      throw new UsageError(`${configPath}: subgraph ${name} needs a "routing_url"`);
    }
    return { name, url: subgraph.routing_url, file: resolve(base, file) };
  });
}

/** Parses each subgraph's SDL; a syntax error is reported against its file. */
function serviceDefinitions(subgraphs) {
  return subgraphs.map(({ name, url, file }) => {
    const source = readText(file, `the SDL of subgraph ${name}`);
    try {
      return { name, url, typeDefs: parse(source) };
    } catch (err) {
      throw new UsageError(`${file} (subgraph ${name}): ${err.message}`);
    }
  });
}

function parseCommandLine(argv) {
  if (argv.length === 0) throw new UsageError(USAGE);
  if (argv[0] === "--config" || argv[0].startsWith("--config=")) {
    const path = argv[0] === "--config" ? argv[1] : argv[0].slice("--config=".length);
    const rest = argv.slice(argv[0] === "--config" ? 2 : 1);
    if (!path || rest.length > 0) throw new UsageError(USAGE);
    return subgraphsFromConfig(path);
  }
  return subgraphsFromArguments(argv);
}

function main(argv) {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const services = serviceDefinitions(parseCommandLine(argv));
  const result = composeServices(services);
  if (compositionHasErrors(result)) {
    process.stderr.write(`compose: the subgraphs do not compose (${result.errors.length} error(s)):\n`);
    for (const error of result.errors) {
      const code = error.extensions?.code ? `[${error.extensions.code}] ` : "";
      process.stderr.write(`  - ${code}${error.message}\n`);
    }
    return 1;
  }
  const sdl = result.supergraphSdl;
  process.stdout.write(sdl.endsWith("\n") ? sdl : `${sdl}\n`);
  return 0;
}

await runCli("compose", main);
