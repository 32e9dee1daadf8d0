/**
 * A tour of a Lumina sandbox: lifecycle, the persistent shell, files with read-before-write,
 * search, a fork that goes its own way, a background dev server followed live, and a preview URL
 * of it. Run it with `npm run demo`, or against your own server:
 * `LUMINA_URL=http://… LUMINA_TOKEN=… npx tsx examples/quickstart.ts`.
 */
import { createClient, isToolError, launchSandbox } from "lumina-sandbox";

const baseUrl = process.env["LUMINA_URL"] ?? "http://localhost:8080";
const token = process.env["LUMINA_TOKEN"];
if (!token) {
  console.error(
    "LUMINA_TOKEN is not set: export the API key of your Lumina server (or run `npm run demo`).",
  );
  process.exit(2);
}

const bold =
  process.stdout.isTTY && !process.env["NO_COLOR"] ? (s: string) => `\x1b[1m${s}\x1b[0m` : String;
const step = (title: string) => console.log(`\n${bold(`== ${title}`)}`);
const show = (text: string) => {
  if (text.trim()) console.log(text.trimEnd().replace(/^/gm, "   "));
};

// Disposing a launched sandbox destroys it, so the tour leaves nothing behind.
await using lumina = await launchSandbox({
  baseUrl,
  token,
  sandbox: `quickstart-${Math.random().toString(16).slice(2, 10)}`,
});
const info = await lumina.getSandbox();
step(`sandbox ${info.name} is ${info.status}`);
console.log(`   all my sandboxes: ${(await lumina.listSandboxes()).map((s) => s.name).join(", ")}`);

step("a command");
const hello = await lumina.bash('echo "Hello from $(uname -s), running as $(whoami)"');
show(hello.output);
console.log(`   exit code ${hello.exitCode}`);

step("the shell keeps its state between calls");
await lumina.bash("export GREETING=hi && mkdir -p ~/project && cd ~/project");
show((await lumina.bash('echo "$GREETING from $(pwd)"')).output);

step("write, read, and the read-before-write rule");
const file = "/home/user/project/app.py";
const written = await lumina.write(
  file,
  'def greet(name):\n    return "hello " + name\n\nprint(greet("world"))\n',
);
console.log(`   wrote ${written.bytesWritten} bytes to ${written.filePath}`);
try {
  await lumina.write(file, "print('overwritten blindly')\n");
} catch (error) {
  if (!isToolError(error)) throw error;
  console.log(
    `   a blind overwrite is refused: ${error.statusCode} ${error.code}: ${error.message}`,
  );
}
const read = await lumina.read(file);
if (read.type === "text") show(read.content);
const edited = await lumina.edit(file, '"hello " + name', 'f"hello, {name}!"');
console.log(`   edited: ${edited.replacements} replacement`);
show((await lumina.bash("python3 app.py")).output);

step("search");
await lumina.write("/home/user/project/README.md", "# project\nTODO: write the docs\n");
const found = await lumina.glob("**/*", { path: "/home/user/project" });
console.log(`   glob found ${found.count} files, newest first: ${found.matches.join(", ")}`);
const grep = await lumina.grep("greet", {
  path: "/home/user/project",
  outputMode: "content",
  lineNumbers: true,
});
for (const match of grep.matches)
  console.log(`   ${match.file}:${match.lineNumber}: ${match.line}`);

step("fork: a copy of this sandbox, home and all, that goes its own way");
const fork = createClient({ baseUrl, token, sandbox: `${lumina.sandbox}-fork` });
await lumina.forkSandbox(fork.sandbox);
try {
  await lumina.bash(`echo 'print("only in the original")' >> app.py`);
  await fork.bash(`echo 'print("only in the fork")' >> ~/project/app.py`);
  console.log("   original:");
  show((await lumina.bash("python3 app.py")).output);
  console.log("   fork:");
  show((await fork.bash("python3 ~/project/app.py")).output);
} finally {
  await fork.destroySandbox();
}

step("a background dev server, followed live");
// Each sandbox has its own network namespace and loopback: no other sandbox or host process can
// take or reach this port (with `--isolation none` the host's is shared, hence a random one).
const port = 20_000 + Math.floor(Math.random() * 20_000);
const server = await lumina.bash(
  // curl retries until the server listens: on a busy machine it starts in more than a moment.
  `python3 -u -m http.server ${port} --bind 127.0.0.1 2>&1 & for i in 1 2 3; do curl -s --retry 30 --retry-connrefused --retry-delay 1 -o /dev/null "http://127.0.0.1:${port}/?visit=$i"; sleep 0.3; done; wait`,
  { runInBackground: true },
);
console.log(`   started ${server.shellId}`);
// Count over everything seen so far: a chunk may end in the middle of a line.
let seen = "";
for await (const chunk of lumina.streamOutput(server.shellId, {
  signal: AbortSignal.timeout(60_000),
})) {
  show(chunk.output);
  seen += chunk.output;
  if (seen.split("GET /?visit").length > 3) break; // the server keeps running until killed
}

step("a preview URL: the dev server, reached from here through the Lumina server");
const preview = await lumina.exposePort(port, { ttl: 10 * 60_000 });
console.log(`   open ${preview.url} in a browser (until ${preview.expiresAt})`);
// The path form needs no wildcard name: Node's fetch does not resolve *.localhost.
const visit = await fetch(preview.pathUrl);
const title = /<title>(.*)<\/title>/.exec(await visit.text())?.[1];
console.log(`   GET ${preview.pathUrl}: ${visit.status}, "${title}"`);
await lumina.closePort(port);
console.log(`   after closePort: ${(await fetch(preview.pathUrl)).status}`);
const killed = await lumina.killBash(server.shellId);
console.log(`   ${killed.message} (status ${killed.status})`);

step("done: the sandbox is destroyed on dispose");
