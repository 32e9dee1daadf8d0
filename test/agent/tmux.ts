/** A terminal for CLI tests: a private tmux server (its own socket) running one command. */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** A tmux pane running a command. */
export interface Terminal {
  /** Types keys (tmux send-keys syntax: "Enter", "C-c", or literal text with `literal`). */
  send(keys: string, options?: { literal?: boolean }): void;
  /** The pane's text; with `escapes`, the colour and style escape sequences kept. */
  capture(options?: { escapes?: boolean }): string;
  /** Polls the pane until it matches, or throws with the pane's text after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** Starts `command` in a fresh 160x50 tmux pane with `env`; the pane stays after it exits. */
export function openTerminal(command: string, env: Record<string, string>, cwd: string): Terminal {
  const socket = `lumina-test-${randomBytes(4).toString("hex")}`;
  const tmux = (...args: string[]) =>
    execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  const envArgs = Object.entries(env).flatMap(([key, value]) => ["-e", `${key}=${value}`]);
  // Print the exit code and keep the pane open so the test can read the last lines.
  const wrapped = `${command}; echo "[exit $?]"; sleep 3600`;
  tmux("new-session", "-d", "-s", "t", "-x", "160", "-y", "50", "-c", cwd, ...envArgs, wrapped);
  const terminal: Terminal = {
    send(keys, options = {}) {
      tmux("send-keys", "-t", "t", ...(options.literal ? ["-l", keys] : [keys]));
    },
    capture(options = {}) {
      return tmux(
        "capture-pane",
        "-p",
        "-t",
        "t",
        "-S",
        "-200",
        ...(options.escapes ? ["-e"] : []),
      );
    },
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = terminal.capture();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline)
          throw new Error(`Timed out waiting for ${pattern}; the pane shows:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    close() {
      try {
        tmux("kill-server");
      } catch {
        // Already gone.
      }
    },
  };
  return terminal;
}
