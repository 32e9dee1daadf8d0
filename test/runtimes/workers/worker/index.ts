/**
 * The Worker that runs the shared scenario inside workerd. `lumina-sandbox` is the built package
 * (esbuild bundles `dist/` into this script). `GET /outbound` reaches the server's loopback URL
 * with the global `fetch`; `GET /binding` reaches it only through the `LUMINA` service binding,
 * with a base URL that resolves nowhere, so a client that ignored the `fetch` option would fail.
 */
import * as sdk from "lumina-sandbox";
import { runScenario, type ScenarioOptions } from "../../scenario.ts";

/** The bindings the test gives this Worker. */
interface Env {
  /** A service binding that forwards to the real server. */
  LUMINA: Fetcher;
  /** The server's loopback URL, for outbound fetch. */
  LUMINA_URL: string;
  LUMINA_TOKEN: string;
}

export default {
  async fetch(request, env) {
    const mode = new URL(request.url).pathname;
    const options: ScenarioOptions | undefined =
      mode === "/outbound"
        ? { baseUrl: env.LUMINA_URL, token: env.LUMINA_TOKEN, runtime: "workerd-outbound" }
        : mode === "/binding"
          ? {
              baseUrl: "https://lumina.invalid",
              token: env.LUMINA_TOKEN,
              runtime: "workerd-binding",
              fetch: env.LUMINA.fetch.bind(env.LUMINA),
            }
          : undefined;
    if (!options) return new Response(`unknown mode ${mode}`, { status: 404 });
    try {
      return Response.json({ ok: true, ...(await runScenario(sdk, options)) });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      return Response.json({ ok: false, error: message }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
