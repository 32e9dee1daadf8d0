// biome-ignore lint/correctness/noNodejsModules: the CLI runs on Node, Deno and Bun, which all provide node:process.
import process from "node:process";

/** A mistake in how the CLI was called: reported in one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError" as const;
}

/** Reads a variable that must be set and non-empty. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new UsageError(`${name} is not set: export ${name}=… and run again`);
  }
  return value;
}

/** Reads an optional variable; empty counts as unset. */
export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** A random suffix for temporary sandbox names. */
export function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The agent's model settings from AGENT_MODEL and ANTHROPIC_BASE_URL, when set. */
export function modelEnv(): { model?: string; baseUrl?: string } {
  const model = optionalEnv("AGENT_MODEL");
  const baseUrl = optionalEnv("ANTHROPIC_BASE_URL");
  return { ...(model ? { model } : {}), ...(baseUrl ? { baseUrl } : {}) };
}
