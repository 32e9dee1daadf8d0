/** The call options that every method takes besides its own. */
export const CALL_KEYS: readonly string[] = ["signal", "requestTimeout", "idempotencyKey"];

/**
 * Throws a `TypeError` when `options` has a key that `method` does not take (its own `fields` and
 * `callKeys`), so that a typo or another method's option fails before anything is sent
 * instead of being dropped unseen. Returns the values of `fields` alone, for the request body.
 */
export function ownFields(
  method: string,
  options: object,
  fields: readonly string[] = [],
  callKeys: readonly string[] = CALL_KEYS,
): Record<string, unknown> {
  const keys = [...fields, ...callKeys];
  if (Object(options) !== options) throw new TypeError(`${method}: the options must be an object`);
  for (const key of Object.keys(options)) {
    if (!keys.includes(key))
      throw new TypeError(`${method}: unknown option '${key}'; it takes: ${keys.join(", ")}`);
  }
  const values: Record<string, unknown> = {};
  for (const field of fields) values[field] = (options as Record<string, unknown>)[field];
  return values;
}
