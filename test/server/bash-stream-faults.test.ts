/**
 * `streamOutput` against the real server when answers are lost on the way back: the server has
 * read the output (and moved the session's position), the client never sees the answer.
 */
import { expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

let sandbox: string;

/** A client whose fetch loses the answers of the `bash_output` requests numbered in `lose`. */
function losingClient(lose: number[], toolSessionId?: string) {
  let polls = 0;
  const lost: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const poll = request.url.endsWith("/tools/bash_output") ? polls++ : -1;
    const response = await globalThis.fetch(request);
    if (!lose.includes(poll)) return response;
    // The server answered (and moved the position); the client never gets to see it.
    lost.push(await response.text());
    throw new TypeError("fetch failed: connection reset");
  };
  const lumina: LuminaClient = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox,
    toolSessionId,
    retry: { baseDelay: 10 },
    fetch,
  });
  return { lumina, lost };
}

async function follow(lumina: LuminaClient, shellId: string): Promise<string> {
  let output = "";
  for await (const chunk of lumina.streamOutput(shellId)) output += chunk.output;
  return output;
}

const server = useTestServer({}, async () => {
  sandbox = randomSandboxName("stream");
  await createClient({ baseUrl: server().url, token: server().token, sandbox }).createSandbox();
});

it("a lost first answer of streamOutput loses no output", async () => {
  const { lumina, lost } = losingClient([0]);
  const { shellId } = await lumina.bash("echo one; sleep 0.3; echo two; sleep 0.3; echo three", {
    runInBackground: true,
  });
  expect(await follow(lumina, shellId)).toBe("one\ntwo\nthree\n");
  expect(lost).toHaveLength(1);
  expect(JSON.parse(lost[0]!)).toMatchObject({ output: expect.stringContaining("one") });
});

it("a resumed session's stream whose first answer is lost gets it back: nothing lost or repeated", async () => {
  const first = losingClient([]);
  const { shellId } = await first.lumina.bash("echo one; sleep 0.5; echo two", {
    runInBackground: true,
  });
  // The session's position moves past "one" through the first client.
  let read = "";
  while (!read.includes("one"))
    read += (await first.lumina.bashOutput(shellId, { waitMs: 5000 })).output;
  const resumed = losingClient([0], first.lumina.toolSessionId);
  const output = await follow(resumed.lumina, shellId);
  expect(resumed.lost).toHaveLength(1);
  // The poll without a cursor is retried with its Idempotency-Key and answered from its record.
  expect(read + output).toBe("one\ntwo\n");
});
