/** How the tests start the `lumina` CLI from source: Node with tsx, in the repository root. */
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root: string = fileURLToPath(new URL("../..", import.meta.url));

/** The command and arguments that run `lumina <args>` from `src/` on Node. */
export function luminaCommand(...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ["--import", "tsx", "src/cli/main.ts", ...args] };
}

/** The runtimes the CLI must run on, each as the command prefix that runs a .ts file. */
export const runtimes: Record<"node" | "bun" | "deno", string[]> = {
  node: [process.execPath, "--import", "tsx"],
  bun: [`${root}node_modules/.bin/bun`],
  deno: [`${root}node_modules/.bin/deno`, "run", "-A"],
};
