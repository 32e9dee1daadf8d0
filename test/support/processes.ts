/** Shared by the kill tests: a process that tries to escape its command, and a bounded wait. */

/** A child that clears its environment, leaves its session and is orphaned by a double fork. */
export const escapee = (seconds: string): string =>
  `/usr/bin/env -i /usr/bin/setsid /bin/sh -c '/bin/sleep ${seconds} & exit' &`;

/** Waits (bounded, generously: 15 s) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}
