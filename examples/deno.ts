/**
 * lumina-sandbox on Deno, from JSR. Add the package once, then run this file against your server:
 *
 *   deno add jsr:@lumina/sandbox
 *   LUMINA_URL=http://localhost:8080 LUMINA_TOKEN=… deno run --allow-net --allow-env deno.ts
 */
import { isToolError, launchSandbox } from "@lumina/sandbox";

const token = Deno.env.get("LUMINA_TOKEN");
if (!token) {
  console.error("LUMINA_TOKEN is not set: export an API key of your Lumina server.");
  Deno.exit(2);
}

// A fresh sandbox, destroyed when `lumina` goes out of scope.
await using lumina = await launchSandbox({
  baseUrl: Deno.env.get("LUMINA_URL") ?? "http://localhost:8080",
  token,
  sandbox: `deno-${crypto.randomUUID().slice(0, 8)}`,
});
const { output } = await lumina.bash('echo "hello from $(whoami) in a sandbox"');
console.log(output.trimEnd());

try {
  await lumina.read("/home/user/missing.txt");
} catch (error) {
  if (!isToolError(error)) throw error;
  console.log(`a missing file is a ${error.statusCode} ${error.code}`);
}
