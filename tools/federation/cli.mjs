// What the federation scripts share: reading input files, and turning input
// mistakes into a message and exit code 2 (composition or breaking-change
// failures exit 1, so CI can tell "the schema is wrong" from "the call is wrong").

import { readFileSync } from "node:fs";

/** A mistake in the tool's input (arguments, unreadable or malformed files). */
export class UsageError extends Error {}

export function readText(path, what) {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${err.message}`);
  }
}

/** Runs `main(args)` (returning an exit code), reporting a UsageError as `<tool>: message`, exit 2. */
export async function runCli(tool, main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${tool}: ${err.message}\n`);
    process.exitCode = 2;
  }
}
