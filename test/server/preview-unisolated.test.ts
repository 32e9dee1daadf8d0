/**
 * Preview URLs on the unisolated backend (`--isolation none`): the same tunnel through the agent
 * as with bubblewrap, so the two URL forms, WebSockets and the 502 behave alike.
 */
import { expect, it } from "vitest";
import WebSocket from "ws";
import { createClient } from "../../src/index.ts";
import { rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostForm, randomPort, startApp } from "./preview-helpers.ts";

const server = useTestServer({ isolation: "none" });

it("reaches the sandbox's server through both forms, a WebSocket included, and 502 without one", async () => {
  const client = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: randomSandboxName("pn"),
  });
  await client.createSandbox();
  const port = randomPort();
  const info = await client.exposePort(port);
  expect((await rawCall(info.pathUrl, "")).status).toBe(502);
  await startApp(client, port);
  const byHost = await hostForm(`${info.url}x?y=1`, { headers: { authorization: "Bearer t" } });
  expect(JSON.parse(byHost.text)).toMatchObject({
    url: "/x?y=1",
    headers: { host: new URL(info.url).host },
  });
  expect(JSON.parse(byHost.text).headers.authorization).toBeUndefined();
  expect(((await rawCall(info.pathUrl, "z")).json as { url: string }).url).toBe("/z");
  const echoed = await new Promise<string>((resolve, reject) => {
    const socket = new WebSocket(`${info.pathUrl.replace(/^http/, "ws")}ws`);
    socket.once("open", () => socket.send("echo"));
    socket.once("message", (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once("error", reject);
  });
  expect(echoed).toBe("echo");
  await client.destroySandbox();
});
