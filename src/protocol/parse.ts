import type * as v from "valibot";
import { ValidationError } from "../errors.ts";

/** A snake_case key in camelCase, as `parseAnswer` renames it: `total_lines` is `totalLines`. */
export type CamelKey<K> = K extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelKey<Tail>>}`
  : K;

/** A wire answer's type with its keys in camelCase at every depth, as `parseAnswer` returns it. */
export type Camelize<T> = T extends readonly (infer Item)[]
  ? Camelize<Item>[]
  : T extends object
    ? { [K in keyof T as CamelKey<K>]: Camelize<T[K]> }
    : T;

/** Whether `A` and `B` are the same type (not just assignable one way). */
export type SameType<A, B> =
  (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

/**
 * `unknown` when the result type `T` is exactly the camelCase output of `S`; otherwise an object
 * type no schema has, so the call passing `S` fails to compile and names both types.
 */
export type AnswerOf<T, S extends v.GenericSchema> =
  SameType<T, Camelize<v.InferOutput<S>>> extends true
    ? unknown
    : { resultType: T; differsFromSchemaOutput: Camelize<v.InferOutput<S>> };

/**
 * Validates a 2xx body against `schema` and returns it with camelCase keys (`total_lines` becomes
 * `totalLines`), typed as `T`. `T` must be exactly the schema's camelCased output: a result
 * interface that drifts from its schema is a compile error at the call. A mismatch at run time
 * raises a ValidationError naming the field at fault, such as
 * `matches[0].line_number: expected number, received "7"`: wrong data never reaches the caller.
 */
export function parseAnswer<T, S extends v.GenericSchema>(
  schema: S & AnswerOf<T, S>,
  body: unknown,
  what: string,
): T {
  // What `v.safeParse` does inside, without its merge of the global config (whose `lang` and
  // messages this never reads): the entry then does not bundle `safeParse`.
  const { value, issues } = schema["~run"]({ value: body }, { abortEarly: true });
  // The one cast: `camelize` does at run time what `Camelize` says, which AnswerOf checked is T.
  if (!issues) return camelize(value) as T;
  const [issue] = issues;
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
export function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())] = camelize(item);
  }
  return copy;
}

/** A camelCase key in the wire's snake_case: `totalLines` is `total_lines`. */
export type SnakeKey<K> = K extends `${infer Char}${infer Rest}`
  ? `${Char extends Lowercase<Char> ? Char : `_${Lowercase<Char>}`}${SnakeKey<Rest>}`
  : K;

/** A result type with its keys in the wire's snake_case at every depth (the inverse of Camelize). */
export type Snakeify<T> = T extends readonly (infer Item)[]
  ? Snakeify<Item>[]
  : T extends object
    ? { [K in keyof T as SnakeKey<K>]: Snakeify<T[K]> }
    : T;
