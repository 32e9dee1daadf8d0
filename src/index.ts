/**
 * The TypeScript client of Lumina sandboxes: isolated Linux environments that agents drive over
 * HTTP with file, search and shell tools. It runs wherever `fetch` does (Node, Deno, Bun,
 * Cloudflare Workers, browsers) and depends only on `fetch` (through `ofetch`) and `valibot`.
 *
 * @example
 * ```ts
 * import { createClient } from "lumina-sandbox";
 *
 * await using lumina = createClient({
 *   baseUrl: "http://localhost:8080",
 *   token: "…",
 *   sandbox: "my-sandbox",
 * });
 * await lumina.write("/home/user/hello.py", "print('hello')\n");
 * const { output } = await lumina.bash("python3 /home/user/hello.py");
 * ```
 *
 * @module
 */

export { type ClientOptions, createClient, type LuminaClient } from "./client.ts";
export {
  isLuminaError,
  isNetworkError,
  isTimeoutError,
  isToolError,
  isValidationError,
  LuminaError,
  NetworkError,
  TimeoutError,
  ToolError,
  type ToolErrorDetails,
  ValidationError,
} from "./errors.ts";
export { type LaunchOptions, launchSandbox } from "./launch.ts";
export type {
  BashOutputResult,
  BashResult,
  BashStatus,
  KillBashResult,
} from "./protocol/bash.ts";
export type {
  EditResult,
  ImageFileResult,
  PdfFileResult,
  PdfPage,
  ReadResult,
  TextFileResult,
  WriteResult,
} from "./protocol/files.ts";
export type { PortInfo } from "./protocol/ports.ts";
export type {
  NetworkPolicy,
  SandboxInfo,
  SandboxLease,
  SandboxResources,
  SandboxStatus,
} from "./protocol/sandboxes.ts";
export type {
  GlobResult,
  GrepContentMatch,
  GrepContentResult,
  GrepCountEntry,
  GrepCountResult,
  GrepFilesResult,
  GrepOutputMode,
  GrepResult,
} from "./protocol/search.ts";
export type { SnapshotInfo } from "./protocol/snapshots.ts";
export type { ArchiveResult, UploadResult } from "./protocol/transfer.ts";
export type { CallOptions } from "./request.ts";
export type { RetryOption, RetryOptions } from "./retry.ts";
export type { StreamOutputOptions } from "./stream.ts";
export type {
  BashMethods,
  BashOptions,
  BashOutputOptions,
  KillBashOptions,
} from "./tools/bash.ts";
export type { EditOptions, FileMethods, ReadOptions, WriteOptions } from "./tools/files.ts";
export type { NetworkMethods } from "./tools/network.ts";
export type { ExposePortOptions, PortMethods } from "./tools/ports.ts";
export type { CreateSandboxOptions, SandboxMethods } from "./tools/sandboxes.ts";
export type { GlobOptions, GrepOptions, SearchMethods } from "./tools/search.ts";
export type { ForkSandboxOptions, SnapshotMethods, SnapshotOptions } from "./tools/snapshots.ts";
export type { ArchiveOptions, TransferMethods, UploadData } from "./tools/transfer.ts";
export {
  type ClientHooks,
  createFetchTransport,
  type FetchFunction,
  type FetchResponse,
  type Transport,
  type TransportBody,
  type TransportRequest,
  type TransportResponse,
} from "./transport.ts";
