import * as v from "valibot";
import { parseAnswer } from "./parse.ts";

/** An exposed port of a sandbox and its preview URLs (CONTRACT §10). */
export interface PortInfo {
  /** The port inside the sandbox. */
  port: number;
  /** The host-name form, `http://{port}-{token}.{previewDomain}:{serverPort}/`: absolute paths work. */
  url: string;
  /** The path form, `{server}/preview/{token}/`, for when no wildcard host name resolves. */
  pathUrl: string;
  /** When both URLs stop working (ISO 8601), unless the port is closed or the sandbox restarted first. */
  expiresAt: string;
}

const port = v.object({
  port: v.number(),
  url: v.string(),
  path_url: v.string(),
  expires_at: v.string(),
});
const list = v.object({ ports: v.array(port) });

/** The answer schemas of the port routes (the wire's single definition). */
export const portAnswers: Readonly<Record<"one" | "list", v.GenericSchema>> = { one: port, list };

/** Validates and maps the answer of `POST /v1/sandboxes/{name}/ports`. */
export const toPort = (body: unknown): PortInfo =>
  parseAnswer<PortInfo, typeof port>(port, body, "port");

/** Validates and maps the answer of `GET /v1/sandboxes/{name}/ports`. */
export const toPortList = (body: unknown): PortInfo[] =>
  parseAnswer<{ ports: PortInfo[] }, typeof list>(list, body, "ports").ports;
