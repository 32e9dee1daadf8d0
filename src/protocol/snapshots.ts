import * as v from "valibot";
import { parseAnswer } from "./parse.ts";

/** A snapshot of a sandbox's `/home/user`, as the server describes it. */
export interface SnapshotInfo {
  /** The snapshot id, for `getSnapshot`, `deleteSnapshot` and `createSandbox({ fromSnapshot })`. */
  id: string;
  /** The name of the sandbox it was taken of (which may be gone since). */
  sandbox: string;
  /** The label given to `snapshot`, or `null`. */
  label: string | null;
  /** When it was taken, as the server wrote it (ISO 8601). */
  createdAt: string;
  /** The bytes it takes on the server's disk. */
  sizeBytes: number;
}

const snapshot = v.object({
  id: v.string(),
  sandbox: v.string(),
  label: v.nullable(v.string()),
  created_at: v.string(),
  size_bytes: v.number(),
});
const one = v.object({ snapshot });
const list = v.object({ snapshots: v.array(snapshot) });

/** The answer schemas of the snapshot routes (the wire's single definition). */
export const snapshotAnswers: Readonly<Record<"one" | "list", v.GenericSchema>> = { one, list };

/** Validates and maps the answer of `POST …/snapshots` and `GET /v1/snapshots/{id}`. */
export function toSnapshot(body: unknown): SnapshotInfo {
  return parseAnswer<{ snapshot: SnapshotInfo }, typeof one>(one, body, "snapshot").snapshot;
}

/** Validates and maps the answer of `GET /v1/snapshots`. */
export function toSnapshotList(body: unknown): SnapshotInfo[] {
  return parseAnswer<{ snapshots: SnapshotInfo[] }, typeof list>(list, body, "list snapshots")
    .snapshots;
}
