import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import {
  expectToolError,
  hostHomeOf,
  newSandboxClient,
  sameSandboxClient,
} from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
});

describe("write", () => {
  it("creates parent directories and counts UTF-8 bytes", async () => {
    const result = await lumina.write("/home/user/w/deep/er/hello.txt", "héllo ✓\n");
    expect(result).toEqual({
      message: "ok",
      bytesWritten: 11,
      filePath: "/home/user/w/deep/er/hello.txt",
    });
  });

  it("round-trips content byte for byte (CRLF, no final newline, unicode, control characters)", async () => {
    const content = "a\r\nb\tc\u0001\u001b[0m 🎉 \u2028 end";
    await lumina.write("/home/user/w/exact.txt", content);
    const { output } = await lumina.bash("base64 -w0 /home/user/w/exact.txt");
    expect(Buffer.from(output.trim(), "base64").toString("utf8")).toBe(content);
  });

  it("refuses a relative path with invalid_path", async () => {
    const message = await expectToolError(lumina.write("w/rel.txt", "x"), 400, "invalid_path");
    expect(message).toMatch(/absolute path like \/home\/user\//);
    await expectToolError(lumina.write("/home/user/w/../x.txt", "x"), 400, "invalid_path");
  });

  it("needs a read before overwriting an existing file (not_read), and a new file leaves no record", async () => {
    await lumina.write("/home/user/w/new.txt", "one\n");
    // A second write without a read is refused: creating the file recorded nothing.
    await expectToolError(lumina.write("/home/user/w/new.txt", "two\n"), 409, "not_read");
    await lumina.bash("echo shell > /home/user/w/by-shell.txt");
    await expectToolError(lumina.write("/home/user/w/by-shell.txt", "x"), 409, "not_read");
  });

  it("overwrites after a read, and its own write refreshes the record", async () => {
    await lumina.write("/home/user/w/cycle.txt", "v1\n");
    await lumina.read("/home/user/w/cycle.txt");
    await lumina.write("/home/user/w/cycle.txt", "v2\n");
    await lumina.write("/home/user/w/cycle.txt", "v3\n");
    await lumina.edit("/home/user/w/cycle.txt", "v3", "v4");
    expect(await lumina.read("/home/user/w/cycle.txt")).toMatchObject({ content: "   1\tv4\n" });
  });

  it("a ranged read counts as a read", async () => {
    await lumina.write("/home/user/w/ranged.txt", "1\n2\n3\n");
    await lumina.read("/home/user/w/ranged.txt", { offset: 2, limit: 1 });
    await lumina.write("/home/user/w/ranged.txt", "new\n");
  });

  it("refuses with stale_read when the file changed since the read (shell or another session)", async () => {
    await lumina.write("/home/user/w/stale.txt", "original\n");
    await lumina.read("/home/user/w/stale.txt");
    await lumina.bash("echo changed >> /home/user/w/stale.txt");
    await expectToolError(lumina.write("/home/user/w/stale.txt", "mine\n"), 409, "stale_read");
    await expectToolError(
      lumina.edit("/home/user/w/stale.txt", "original", "x"),
      409,
      "stale_read",
    );

    await lumina.read("/home/user/w/stale.txt");
    const other = sameSandboxClient(server(), lumina);
    await other.read("/home/user/w/stale.txt");
    await other.write("/home/user/w/stale.txt", "theirs\n");
    await expectToolError(lumina.write("/home/user/w/stale.txt", "mine\n"), 409, "stale_read");
  });

  it("keeps the mode of the file it replaces and replaces atomically (new inode)", async () => {
    await lumina.bash(
      "printf '#!/bin/sh\\necho hi\\n' > /home/user/w/run.sh && chmod 750 /home/user/w/run.sh",
    );
    const home = await hostHomeOf(server(), lumina);
    const before = await stat(join(home, "w/run.sh"));
    await lumina.read("/home/user/w/run.sh");
    await lumina.write("/home/user/w/run.sh", "#!/bin/sh\necho bye\n");
    const after = await stat(join(home, "w/run.sh"));
    expect(after.mode & 0o777).toBe(0o750);
    expect(after.ino).not.toBe(before.ino);
    expect((await lumina.bash("/home/user/w/run.sh")).output).toBe("bye\n");
    // No temp file is left behind.
    expect(
      (await lumina.bash("ls -A /home/user/w | grep -c lumina-tmp || true")).output.trim(),
    ).toBe("0");
  });

  it("writes through a symlink to its target", async () => {
    await lumina.write("/home/user/w/target.txt", "t\n");
    await lumina.bash("ln -s target.txt /home/user/w/link.txt");
    await lumina.read("/home/user/w/link.txt");
    await lumina.write("/home/user/w/link.txt", "via link\n");
    expect(
      (await lumina.bash("cat /home/user/w/target.txt; test -L /home/user/w/link.txt && echo L"))
        .output,
    ).toBe("via link\nL\n");
  });

  it("refuses to write over a directory", async () => {
    await lumina.bash("mkdir -p /home/user/w/adir");
    await expectToolError(lumina.write("/home/user/w/adir", "x"), 400, "invalid_request");
  });
});

describe("edit", () => {
  it("replaces one occurrence and reports replacements", async () => {
    await lumina.write("/home/user/e/a.py", "def hello():\n    print('hi')\n");
    await lumina.read("/home/user/e/a.py");
    const result = await lumina.edit("/home/user/e/a.py", "def hello():", "def hello(name):");
    expect(result).toEqual({ message: "ok", replacements: 1, filePath: "/home/user/e/a.py" });
    expect((await lumina.bash("cat /home/user/e/a.py")).output).toBe(
      "def hello(name):\n    print('hi')\n",
    );
  });

  it("says how many occurrences it found, and replace_all replaces them all", async () => {
    await lumina.write("/home/user/e/b.txt", "print x\nprint y\nprint z\n");
    await lumina.read("/home/user/e/b.txt");
    const message = await expectToolError(
      lumina.edit("/home/user/e/b.txt", "print", "log"),
      400,
      "ambiguous_match",
    );
    expect(message).toMatch(/found 3 occurrences/);
    expect(message).toMatch(/replace_all/);
    expect(
      await lumina.edit("/home/user/e/b.txt", "print", "log", { replaceAll: true }),
    ).toMatchObject({
      replacements: 3,
    });
    expect((await lumina.bash("cat /home/user/e/b.txt")).output).toBe("log x\nlog y\nlog z\n");
  });

  it("treats replacement text literally ($& and $1 are not patterns)", async () => {
    await lumina.write("/home/user/e/d.txt", "cost: X\n");
    await lumina.read("/home/user/e/d.txt");
    await lumina.edit("/home/user/e/d.txt", "X", "$& $1 $$");
    expect((await lumina.bash("cat /home/user/e/d.txt")).output).toBe("cost: $& $1 $$\n");
  });

  it("answers no_match, no_change, not_read and not_found", async () => {
    await lumina.write("/home/user/e/c.txt", "abc\n");
    await expectToolError(lumina.edit("/home/user/e/c.txt", "abc", "x"), 409, "not_read");
    await lumina.read("/home/user/e/c.txt");
    await expectToolError(lumina.edit("/home/user/e/c.txt", "zzz", "x"), 400, "no_match");
    await expectToolError(lumina.edit("/home/user/e/c.txt", "abc", "abc"), 400, "no_change");
    await expectToolError(lumina.edit("/home/user/e/none.txt", "a", "b"), 404, "not_found");
  });
});
