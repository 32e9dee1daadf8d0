/**
 * The key of `[Symbol.asyncDispose]`. Older runtimes (Safari before 18, Node before 18.18) lack the
 * symbol; transpiled `await using` then looks up `Symbol.for("Symbol.asyncDispose")`, so use that.
 */
export const asyncDispose: typeof Symbol.asyncDispose =
  (Symbol.asyncDispose as typeof Symbol.asyncDispose | undefined) ??
  (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);
