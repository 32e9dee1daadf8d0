/** The host's own addresses, read at each use (they can change while the server runs). */
import { networkInterfaces } from "node:os";

/** The host's own IPv4 addresses, which a sandbox must not reach either. */
export function hostIpv4Addresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((entry) => entry.family === "IPv4")
    .map((entry) => entry.address);
}
