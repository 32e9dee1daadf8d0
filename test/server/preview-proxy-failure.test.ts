/** A preview whose lookup fails (a busy registry, say) is answered, never left hanging. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it } from "vitest";
import { ServerError } from "../../server/errors.ts";
import { createPreviewProxy } from "../../server/http/preview-proxy.ts";

it("answers 503 when the preview's lookup throws", async () => {
  const proxy = createPreviewProxy({
    previewDomain: "localhost",
    previews: {
      find: () => {
        throw new ServerError("unavailable", "the registry is busy; retry");
      },
    } as never,
    runtimeOf: async () => undefined,
    begin: () => () => {},
    log: () => {},
  });
  const server = createServer((req, res) => {
    if (!proxy.handleRequest(req, res)) res.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/preview/${"a".repeat(40)}/`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(answer.status).toBe(503);
    expect(await answer.text()).toContain("registry is busy");
  } finally {
    server.close();
  }
});
