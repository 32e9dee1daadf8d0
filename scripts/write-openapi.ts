/**
 * Writes docs/openapi.json: the document `GET /v1/openapi.json` serves, for this package version.
 * test/server/openapi.test.ts fails until it is rewritten after a wire change (`npm run openapi`).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { buildOpenApiDocument } from "../server/http/openapi.ts";

const root = new URL("../", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as {
  version: string;
};
const target = new URL("docs/openapi.json", root);
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(version), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
