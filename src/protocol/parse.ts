import * as v from "valibot";
import { ValidationError } from "../errors.ts";

/**
 * Validates a 2xx body against `schema` and returns it with camelCase keys (`total_lines` becomes
 * `totalLines`), typed as `T`, the result type the schema describes. A mismatch raises a
 * ValidationError naming the field at fault, such as
 * `matches[0].line_number: expected number, received "7"`: wrong data never reaches the caller.
 */
export function parseAnswer<T>(schema: v.GenericSchema, body: unknown, what: string): T {
  const result = v.safeParse(schema, body, { abortEarly: true });
  if (result.success) return camelize(result.output) as T;
  const issue = result.issues[0];
  let path = "";
  for (const item of issue.path ?? []) {
    path +=
      typeof item.key === "number" ? `[${item.key}]` : `${path ? "." : ""}${String(item.key)}`;
  }
  const expected = `expected ${issue.expected ?? "a valid value"}, received ${issue.received}`;
  throw new ValidationError(
    `Malformed ${what} answer: ${path ? `${path}: ` : ""}${expected}`,
    path,
  );
}

/** Copies a parsed answer with its snake_case keys turned to camelCase, at every depth. */
function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())] = camelize(item);
  }
  return copy;
}
