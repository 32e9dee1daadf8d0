/**
 * lumina-sandbox on Cloudflare Workers. The Worker reaches the Lumina server through the service
 * binding `LUMINA` (see wrangler.toml), passed to the client bound: a service binding's `fetch`
 * must be called on its binding, never as a bare function.
 *
 *   npm install lumina-sandbox
 *   npx wrangler secret put LUMINA_TOKEN
 *   npx wrangler deploy
 *
 * Each request runs a short Python program in a fresh sandbox and answers with its output.
 */
import { isToolError, launchSandbox } from "lumina-sandbox";

/** The bindings of wrangler.toml, and the secret `LUMINA_TOKEN`. */
export interface Env {
  /** The service binding to the Lumina server. */
  LUMINA: Fetcher;
  /** The server's base URL; through the binding only its path matters. */
  LUMINA_URL: string;
  /** An API key of the server (a secret). */
  LUMINA_TOKEN: string;
}

export default {
  async fetch(_request, env): Promise<Response> {
    // A fresh sandbox per request; closing a launched client destroys it.
    const lumina = await launchSandbox({
      baseUrl: env.LUMINA_URL,
      token: env.LUMINA_TOKEN,
      sandbox: `worker-${crypto.randomUUID().slice(0, 8)}`,
      fetch: env.LUMINA.fetch.bind(env.LUMINA),
    });
    try {
      await lumina.write(
        "/home/user/hello.py",
        'import sys\nprint("hello from Python", sys.version_info[0])\n',
      );
      const { output, exitCode } = await lumina.bash("python3 /home/user/hello.py");
      return Response.json({ sandbox: lumina.sandbox, output, exitCode });
    } catch (error) {
      if (!isToolError(error)) throw error;
      return Response.json({ error: error.code, message: error.message }, { status: 502 });
    } finally {
      await lumina.close();
    }
  },
} satisfies ExportedHandler<Env>;
