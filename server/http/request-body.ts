/** Reads, parses and validates a JSON request body, in that order, before any work. */
import type * as v from "valibot";
import { parseStrictJsonObject, readLimitedBody, requireJsonContentType } from "./json-body.ts";
import { validateBody } from "./schemas.ts";

/** The validated body of a JSON request (unknown fields dropped). */
export async function readJsonBody<S extends v.GenericSchema>(
  request: Request,
  limit: number,
  schema: S,
): Promise<v.InferOutput<S>> {
  requireJsonContentType(request);
  const text = await readLimitedBody(request, limit);
  return validateBody(schema, parseStrictJsonObject(text));
}
