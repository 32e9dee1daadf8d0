/**
 * The names of write's temp files (`.<name>.<12 hex>.lumina-tmp` beside the target): one place,
 * so the clean-up at start removes exactly what write may leave behind and nothing else.
 */
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";

const tempNamePattern = /^\..+\.[0-9a-f]{12}\.lumina-tmp$/;

/** A fresh temp path in the target's own directory (so the rename stays on one filesystem). */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.lumina-tmp`);
}

/** Whether a file name is one `tempPathFor` makes. */
export function isTempName(name: string): boolean {
  return tempNamePattern.test(name);
}
