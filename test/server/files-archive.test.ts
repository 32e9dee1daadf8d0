/**
 * CONTRACT §11 and SECURITY.md: directory archives in and out. A good tar (or tar.gz) lands whole;
 * a crafted one (an entry that leaves the directory, a device node, a setuid bit, a hard link
 * out) is a 400 naming the entry, leaves nothing behind in the sandbox and touches nothing on
 * the host. The crafted tars are made here with GNU tar (`--transform`, `--absolute-names`).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;
useTestServer({}, async (started) => {
  lumina = await newSandboxClient(started);
});

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "lumina-tars-"));
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** A tar of `names` below `dir`, made by GNU tar with `extra` options. */
function tarOf(dir: string, names: string[], extra: string[] = []): Uint8Array {
  return new Uint8Array(
    execFileSync("tar", ["-c", "-f", "-", ...extra, "-C", dir, "--", ...names]),
  );
}

async function listing(path: string): Promise<string> {
  return (await lumina.bash(`cd ${path} && find . | LC_ALL=C sort`)).output;
}

describe("a good archive", () => {
  it("round-trips a tree (files, a relative symlink, a hard link, unicode names) as tar and tar.gz", async () => {
    const source = join(work, "tree");
    await mkdir(join(source, "src/nested dir"), { recursive: true });
    await writeFile(join(source, "src/nested dir/ünï ☃.txt"), "hello\n");
    await writeFile(
      join(source, "bytes.bin"),
      Uint8Array.from({ length: 256 }, (_, i) => i),
    );
    await symlink("src/nested dir", join(source, "link"));
    execFileSync("ln", [join(source, "bytes.bin"), join(source, "hard.bin")]);
    for (const format of ["tar", "tar.gz"] as const) {
      const extra = format === "tar.gz" ? ["-z"] : [];
      const dirPath = `/home/user/in-${format}`;
      const result = await lumina.uploadArchive(dirPath, tarOf(source, ["."], extra), { format });
      expect(result).toEqual({ dirPath, files: 4, bytes: 6 + 256 });
      expect(await listing(dirPath)).toBe(
        [
          ".",
          "./bytes.bin",
          "./hard.bin",
          "./link",
          "./src",
          "./src/nested dir",
          "./src/nested dir/ünï ☃.txt",
          "",
        ].join("\n"),
      );
      const check = await lumina.bash(
        `cd ${dirPath} && cat "link/ünï ☃.txt" && stat -c %h hard.bin && readlink link`,
      );
      expect(check.output).toBe("hello\n2\nsrc/nested dir\n");
      // Out again: a tar built in the sandbox, streamed, with the same entries.
      const out = await lumina.downloadArchive(dirPath, { format });
      const bytes = new Uint8Array(await new Response(out).arrayBuffer());
      const names = execFileSync("tar", ["-t", ...extra, "-f", "-"], { input: bytes }).toString();
      expect(names.split("\n").filter(Boolean).sort()).toEqual(
        [
          "./",
          "./bytes.bin",
          "./hard.bin",
          "./link",
          "./src/",
          "./src/nested dir/",
          "./src/nested dir/ünï ☃.txt",
        ].sort(),
      );
    }
  });

  it("merges into an existing directory, replacing files and keeping the others", async () => {
    await lumina.bash(
      "mkdir -p /home/user/merge/sub && echo old > /home/user/merge/a && echo keep > /home/user/merge/sub/keep",
    );
    const source = join(work, "merge");
    await mkdir(join(source, "sub"), { recursive: true });
    await writeFile(join(source, "a"), "new\n");
    await writeFile(join(source, "sub/added"), "added\n");
    await lumina.uploadArchive("/home/user/merge", tarOf(source, ["a", "sub"]));
    const check = await lumina.bash("cd /home/user/merge && cat a sub/keep sub/added && ls -A");
    expect(check.output).toBe("new\nkeep\nadded\na\nsub\n");
  });
});

describe("a crafted archive is refused whole, with nothing left behind", () => {
  let passwdBefore: string;
  beforeAll(async () => {
    passwdBefore = createHash("sha256")
      .update(await readFile("/etc/passwd"))
      .digest("hex");
  });

  /** Makes `name` in the directory with `make`; returns the names to archive. */
  const made =
    (name: string, make: (path: string) => unknown) =>
    async (dir: string): Promise<string[]> => {
      await make(join(dir, name));
      return [name];
    };
  const fileNamed = (name: string) => made(name, (path) => writeFile(path, "x"));

  /** A tar of a good file `a`, then the crafted entries. */
  async function crafted(
    name: string,
    build: (dir: string) => Promise<string[]>,
    extra: string[] = [],
  ): Promise<Uint8Array> {
    const dir = join(work, `crafted-${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "a"), "fine\n");
    return tarOf(dir, ["a", ...(await build(dir))], extra);
  }

  const attacks: [string, () => Promise<Uint8Array>, RegExp][] = [
    [
      "../x",
      () => crafted("dotdot", fileNamed("f"), ["-P", "--transform=s,^f$,../x,"]),
      /"\.\.\/x" contains "\.\."/,
    ],
    [
      "/etc/x",
      () => crafted("absolute", fileNamed("f"), ["-P", "--transform=s,^f$,/etc/x,"]),
      /"\/etc\/x" is an absolute path/,
    ],
    [
      "a symlink entry, then a file through it",
      () =>
        crafted(
          "through",
          async (dir) => {
            await symlink("/etc", join(dir, "l"));
            await writeFile(join(dir, "lx"), "x");
            return ["l", "lx"];
          },
          ["--transform=s,^lx$,l/x,"],
        ),
      /"l\/x" goes through "l", a symlink of the same archive/,
    ],
    [
      "a device node",
      () =>
        crafted(
          "device",
          made("null", (path) => execFileSync("mknod", [path, "c", "1", "3"])),
        ),
      /"null" is a character device/,
    ],
    [
      "a FIFO",
      () =>
        crafted(
          "fifo",
          made("pipe", (path) => execFileSync("mkfifo", [path])),
        ),
      /"pipe" is a FIFO/,
    ],
    [
      "a setuid file",
      () =>
        crafted("setuid", async (dir) => {
          await writeFile(join(dir, "su"), "#!/bin/sh\n", { mode: 0o4755 });
          execFileSync("chmod", ["4755", join(dir, "su")]);
          return ["su"];
        }),
      /"su" has the setuid or setgid bit/,
    ],
    [
      "a hard link to /etc/passwd",
      () =>
        crafted(
          "hardlink",
          async (dir) => {
            execFileSync("ln", [join(dir, "a"), join(dir, "h")]);
            return ["h"];
          },
          ["-P", "--transform=s,^a$,/etc/passwd,RS"],
        ),
      /hard link "h" to "\/etc\/passwd" is an absolute path/,
    ],
  ];

  for (const [name, build, message] of attacks) {
    it(`refuses ${name}`, async () => {
      const dirPath = `/home/user/attack-${name.replace(/[^a-z]+/g, "-")}`;
      const error = await expectToolError(
        lumina.uploadArchive(dirPath, await build()),
        400,
        "invalid_request",
      );
      expect(error).toMatch(message);
      // Nothing extracted, not even the good entry, and no staging left: the directory is gone.
      const left = await lumina.bash(
        `test -e ${dirPath} && echo there; ls /etc/x /home/x /home/user/x 2>/dev/null; true`,
      );
      expect(left.output).toBe("");
      const hash = createHash("sha256")
        .update(await readFile("/etc/passwd"))
        .digest("hex");
      expect(hash).toBe(passwdBefore);
      await expect(readFile("/etc/x")).rejects.toThrow();
    });
  }

  it("refuses an entry through a symlink already on disk that leads out, keeping the directory as it was", async () => {
    await lumina.bash(
      "mkdir -p /home/user/ondisk && ln -s /tmp /home/user/ondisk/out && echo mine > /home/user/ondisk/mine",
    );
    const dir = join(work, "ondisk");
    await mkdir(join(dir, "out"), { recursive: true });
    await writeFile(join(dir, "out/x"), "x");
    await writeFile(join(dir, "mine"), "theirs\n");
    const error = await expectToolError(
      lumina.uploadArchive("/home/user/ondisk", tarOf(dir, ["mine", "out/x"])),
      400,
      "invalid_request",
    );
    expect(error).toMatch(
      /"out\/x" would go through "out", a symlink on disk that leads out of the directory/,
    );
    const left = await lumina.bash(
      "ls -A /home/user/ondisk; cat /home/user/ondisk/mine; ls /tmp/x 2>/dev/null; true",
    );
    expect(left.output).toBe("mine\nout\nmine\n");
  });

  it("refuses an upload that is not a tar, and an unknown format", async () => {
    const junk = new Uint8Array(4096).fill(7);
    expect(
      await expectToolError(lumina.uploadArchive("/home/user/junk", junk), 400, "invalid_request"),
    ).toMatch(/tar could not read the archive/);
    expect((await lumina.bash("test -e /home/user/junk && echo there; true")).output).toBe("");
    await expectToolError(lumina.downloadArchive("/home/user/none"), 404, "not_found");
    await expectToolError(
      lumina.downloadArchive("/home/user", { format: "zip" as never }),
      400,
      "invalid_request",
    );
  });
});
