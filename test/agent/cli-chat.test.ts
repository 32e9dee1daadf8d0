import { afterEach, describe, expect, test } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import {
  type AnthropicReplay,
  lastToolResults,
  startAnthropicReplay,
  text,
  toolUse,
} from "../support/anthropic-replay.ts";
import { useTestServer } from "../support/use-server.ts";
import { root, runtimes } from "./cli.ts";
import { openTerminal, type Terminal } from "./tmux.ts";

let admin: LuminaClient;
let terminal: Terminal | undefined;
let model: AnthropicReplay | undefined;

const server = useTestServer({}, async () => {
  admin = createClient({ baseUrl: server().url, token: server().token, sandbox: "unused" });
});
afterEach(async () => {
  terminal?.close();
  await model?.close();
});

const sandboxNames = async () => (await admin.listSandboxes()).map((sandbox) => sandbox.name);

function startChat(anthropicUrl: string, runtime: keyof typeof runtimes = "node"): Terminal {
  const command = runtimes[runtime].map((part) => `'${part}'`).join(" ");
  return openTerminal(
    `${command} src/cli/main.ts chat`,
    {
      LUMINA_HOST: server().url,
      LUMINA_TOKEN: server().token,
      ANTHROPIC_API_KEY: "sk-ant-test",
      ANTHROPIC_BASE_URL: anthropicUrl,
      NO_COLOR: "",
      TERM: "xterm-256color",
    },
    root,
  );
}

describe.each(Object.keys(runtimes) as (keyof typeof runtimes)[])(
  "lumina chat on %s in a terminal",
  (runtime) => {
    test("shows a banner, runs a task that writes and runs a file, colours tool calls, and cleans up on exit", async () => {
      const script = "/home/user/hello.sh";
      model = await startAnthropicReplay([
        {
          check: (request) =>
            expect(request.messages.at(-1)?.content).toBe("Write a hello script and run it"),
          content: [
            text("I'll write the script."),
            toolUse("Write", { file_path: script, content: "echo Hello from the sandbox\n" }),
          ],
        },
        {
          check: (request) => expect(lastToolResults(request)[0]).not.toHaveProperty("is_error"),
          content: [toolUse("Bash", { command: `bash ${script}` })],
        },
        {
          check: (request) =>
            expect(lastToolResults(request)[0]?.content).toContain("Hello from the sandbox\\n"),
          content: [toolUse("done", { message: "Wrote and ran hello.sh." })],
        },
      ]);
      terminal = startChat(model.url, runtime);

      const banner = await terminal.waitFor(/you >/);
      expect(banner).toContain("Lumina Sandbox — Interactive Chat");
      expect(banner).toContain(`Server:  ${server().url}`);
      const sandbox = /Sandbox: (chat-[0-9a-f]{8})/.exec(banner)?.[1];
      expect(sandbox).toBeDefined();
      expect(await sandboxNames()).toEqual([sandbox]);

      terminal.send("Write a hello script and run it", { literal: true });
      terminal.send("Enter");
      const screen = await terminal.waitFor(/Wrote and ran hello\.sh\.[\s\S]*you >/);
      expect(model.failures).toEqual([]);
      expect(screen).toContain("agent > I'll write the script.");
      expect(screen).toMatch(/● Write\(file_path="\/home\/user\/hello\.sh", content=.*\)/);
      expect(screen).toMatch(/→ 28 bytes written to \/home\/user\/hello\.sh/);
      expect(screen).toMatch(
        /● Bash\(command="bash \/home\/user\/hello\.sh"\)\n\s+→ exit 0\n\s+Hello from the sandbox/,
      );

      const coloured = terminal.capture({ escapes: true });
      // The tool name is bold cyan (SGR 1 and 36), the result arrow green (32).
      expect(coloured).toMatch(/\x1b\[[0-9;]*36[0-9;]*m[^\n]*Bash/);
      expect(coloured).toMatch(/\x1b\[[0-9;]*32[0-9;]*m→/);

      const file = createClient({
        baseUrl: server().url,
        token: server().token,
        sandbox: sandbox!,
      });
      expect(await file.read(script)).toMatchObject({
        content: "   1\techo Hello from the sandbox\n",
      });

      terminal.send("exit", { literal: true });
      terminal.send("Enter");
      const end = await terminal.waitFor(/\[exit \d+\]/);
      expect(end).toContain(`Sandbox ${sandbox} destroyed.`);
      expect(end).toContain("[exit 0]");
      expect(await sandboxNames()).toEqual([]);
    });

    test("Ctrl-C at the prompt destroys the temporary sandbox", async () => {
      model = await startAnthropicReplay([]);
      terminal = startChat(model.url, runtime);
      const banner = await terminal.waitFor(/you >/);
      const sandbox = /Sandbox: (chat-[0-9a-f]{8})/.exec(banner)?.[1];
      expect(await sandboxNames()).toEqual([sandbox]);
      terminal.send("C-c");
      const end = await terminal.waitFor(/\[exit \d+\]/);
      expect(end).toContain(`Sandbox ${sandbox} destroyed.`);
      expect(end).toContain("[exit 130]");
      expect(await sandboxNames()).toEqual([]);
    });
  },
);
