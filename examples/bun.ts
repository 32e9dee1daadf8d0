/**
 * lumina-sandbox on Bun, from npm. Install the package once, then run this file against your
 * server:
 *
 *   bun add lumina-sandbox
 *   LUMINA_URL=http://localhost:8080 LUMINA_TOKEN=… bun bun.ts
 */
import { isToolError, launchSandbox } from "lumina-sandbox";

const token = process.env["LUMINA_TOKEN"];
if (!token) {
  console.error("LUMINA_TOKEN is not set: export an API key of your Lumina server.");
  process.exit(2);
}

// A fresh sandbox, destroyed when `lumina` goes out of scope.
await using lumina = await launchSandbox({
  baseUrl: process.env["LUMINA_URL"] ?? "http://localhost:8080",
  token,
  sandbox: `bun-${crypto.randomUUID().slice(0, 8)}`,
});
const { output } = await lumina.bash('echo "hello from $(whoami) in a sandbox"');
console.log(output.trimEnd());

try {
  await lumina.read("/home/user/missing.txt");
} catch (error) {
  if (!isToolError(error)) throw error;
  console.log(`a missing file is a ${error.statusCode} ${error.code}`);
}
