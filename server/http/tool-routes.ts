/** `POST /v1/sandboxes/:name/tools/:tool`: the eight tools of CONTRACT §3. */
import type { Hono, MiddlewareHandler } from "hono";
import { ServerError } from "../errors.ts";
import { killBash, readBashOutput, runBash } from "../tools/bash.ts";
import type { ToolContext } from "../tools/context.ts";
import { editFile, readFile, writeFile } from "../tools/files.ts";
import { globFiles, grepFiles } from "../tools/search.ts";
import { jsonAnswerResponse } from "./answer-body.ts";
import type { AppEnv, AppServices } from "./app-types.ts";
import { heartbeatJsonResponse } from "./heartbeat.ts";
import { heldBytesOf } from "./json-chunks.ts";
import { createAnswerBudget, createConcurrencyLimit } from "./limits.ts";
import { readJsonBody } from "./request-body.ts";
import { type ToolBody, type ToolName, toolBodies } from "./schemas.ts";

/** Each tool's function, taking the body its request schema validated. */
const toolFunctions: {
  [Name in ToolName]: (ctx: ToolContext, body: ToolBody<Name>) => Promise<unknown>;
} = {
  read: readFile,
  write: writeFile,
  edit: editFile,
  glob: globFiles,
  grep: grepFiles,
  bash: runBash,
  bash_output: readBashOutput,
  kill_bash: killBash,
};

/** Tools with an effect, so exactly-once with an `Idempotency-Key` (CONTRACT §13). */
export const keyedTools: ReadonlySet<string> = new Set<string>([
  "write",
  "edit",
  "bash",
  "bash_output",
  "kill_bash",
]);
/** Tools with no effect to lose: past the answer budget their answer is dropped for a 429. */
const readOnlyTools = new Set<ToolName>(["read", "glob", "grep"]);
/** Calls a tool with its body; the body's type follows the tool's name. */
function runTool<Name extends ToolName>(
  tool: Name,
  ctx: ToolContext,
  body: ToolBody<Name>,
): Promise<unknown> {
  return toolFunctions[tool](ctx, body);
}

function isToolName(name: string): name is ToolName {
  return Object.hasOwn(toolBodies, name);
}

/** Adds the tool route. */
export function addToolRoutes(app: Hono<AppEnv>, services: AppServices): void {
  const { sandboxes, sessions } = services;
  const requests = createConcurrencyLimit(services.maxRequestsPerUser, "tool calls");
  const longPolls = createConcurrencyLimit(
    services.maxLongPollsPerUser,
    "waiting bash_output polls",
  );
  const answers = createAnswerBudget(services.maxAnswerBytesPerUser);

  const idempotent: MiddlewareHandler<AppEnv> = (c, next) =>
    keyedTools.has(c.req.param("tool") ?? "") ? services.idempotent(c, next) : next();
  app.post("/v1/sandboxes/:name/tools/:tool", idempotent, async (c) => {
    const user = c.get("user");
    const tool = c.req.param("tool");
    const record = sandboxes.find(user, c.req.param("name"));
    if (!isToolName(tool)) {
      throw new ServerError(
        "not_found",
        `no tool '${tool.slice(0, 64)}'; tools are ${Object.keys(toolBodies).join(", ")}`,
      );
    }
    const sessionId = sessions.checkId(c.req.header("lumina-tool-session"));
    answers.check(user);
    // The slot is taken before the body is read, so a user's concurrent bodies stay bounded too;
    // it is given back once the answer is sent, so unread answers keep theirs.
    // The whole call, answer included, is activity of the sandbox (no idle stop under it).
    const releases = [requests.acquire(user), sandboxes.begin(record)];
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const give of releases) give();
    };
    // Counts the answer against the user's budget until it is sent (or refuses it).
    const hold = (result: unknown) => {
      const give = answers.hold(user, heldBytesOf(result), readOnlyTools.has(tool));
      // A client that hung up before the answer was made will never read it.
      if (released) give();
      else releases.push(give);
      return result;
    };
    try {
      const body: ToolBody<ToolName> = await readJsonBody(
        c.req.raw,
        services.bodyLimit,
        toolBodies[tool],
      );
      // CONTRACT §3: a command's description is informational, for the operator's log.
      if ("description" in body && body.description) {
        services.log(
          `bash in ${record.name} for ${user}: ${JSON.stringify(body.description.slice(0, 200))}`,
        );
      }
      if ("wait_ms" in body && body.wait_ms) {
        releases.push(longPolls.acquire(user));
      }
      const session = await sessions.enter(sessionId, user, record.id);
      releases.push(() => session.leave());
      const sessionKey = session.key;
      const runtime = await sandboxes.ensureRunning(record);
      const ctx: ToolContext = {
        runtime,
        user,
        sessionKey,
        sessionId,
        reads: services.reads,
        started: session.started,
        signal: c.req.raw.signal,
      };
      const call = runTool(tool, ctx, body).catch((error: unknown) => {
        // A client that hung up gets no answer; its abort is not a server failure to log.
        if (ctx.signal.aborted) throw new ServerError("unavailable", "the client hung up");
        throw error;
      });
      if (tool === "bash" && !("run_in_background" in body && body.run_in_background)) {
        // Everything that can fail early has been checked: from here the answer is streamed.
        return heartbeatJsonResponse(call.then(hold), services.heartbeatMs, services.log, release);
      }
      return jsonAnswerResponse(hold(await call), release);
    } catch (error) {
      release();
      throw error;
    }
  });
}
