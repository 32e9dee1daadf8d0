// biome-ignore lint/correctness/noNodejsModules: the CLI runs on Node, Deno and Bun, which all provide node:process.
import process from "node:process";

/** ANSI styling that turns itself off for NO_COLOR, dumb terminals and pipes. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
  cyan(text: string): string;
}

/** Whether to colour a stream: FORCE_COLOR wins, then NO_COLOR, then TERM=dumb, then isTTY. */
export function colorEnabled(stream: { isTTY?: boolean }): boolean {
  const { FORCE_COLOR, NO_COLOR, TERM } = process.env;
  if (FORCE_COLOR !== undefined && FORCE_COLOR !== "0") return true;
  if (NO_COLOR !== undefined && NO_COLOR !== "") return false;
  if (TERM === "dumb") return false;
  return stream.isTTY === true;
}

/** Creates the styling functions for a stream. */
export function createStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
  };
}

/** A one-line spinner on a TTY; a no-op elsewhere, so logs and pipes stay clean. */
export interface Spinner {
  start(label: string): void;
  stop(): void;
}

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Creates a spinner writing to a stream. */
export function createSpinner(
  stream: { isTTY?: boolean; write(text: string): unknown },
  style: Style,
): Spinner {
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    start(label) {
      if (!stream.isTTY || timer) return;
      let frame = 0;
      const draw = () =>
        stream.write(`\r${style.magenta(frames[frame++ % frames.length]!)} ${style.dim(label)}`);
      draw();
      timer = setInterval(draw, 80);
    },
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      stream.write("\r\x1b[K");
    },
  };
}
