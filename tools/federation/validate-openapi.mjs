// Validates an OpenAPI 3 document (a file path) against the OpenAPI schema with
// @apidevtools/swagger-parser: prints "valid" and exits 0, or prints why not and exits 1.
import SwaggerParser from "@apidevtools/swagger-parser";

const path = process.argv[2];
if (!path) {
  console.error("usage: node validate-openapi.mjs OPENAPI.json");
  process.exit(2);
}
try {
  const api = await SwaggerParser.validate(path);
  console.log(`valid: OpenAPI ${api.openapi}, ${Object.keys(api.paths ?? {}).length} paths`);
} catch (error) {
  console.error(`invalid: ${error.message}`);
  process.exit(1);
}
