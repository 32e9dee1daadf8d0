/**
 * A snapshot being deleted is gone for creates: a create that starts while its files are being
 * removed gets 404 rather than a copy of half a tree.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { SandboxService } from "../../server/sandboxes/service.ts";
import { createSnapshotService } from "../../server/sandboxes/snapshots.ts";
import { openRegistry } from "../../server/store/database.ts";
import { createSnapshotStore } from "../../server/store/snapshots.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

it("answers 404 to a create from a snapshot whose deletion is under way", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lumina-snaprace-"));
  dirs.push(dir);
  const db = openRegistry(dir, 0);
  const store = createSnapshotStore(db);
  let release!: () => void;
  const deleting = new Promise<void>((resolve) => {
    release = resolve;
  });
  let created = 0;
  const sandboxes = {
    create: async () => {
      created++;
      return {};
    },
  } as unknown as SandboxService;
  const service = createSnapshotService({
    store,
    sandboxes,
    control: { deleteSnapshot: () => deleting },
  });
  const record = store.begin("ann", "src", null, "taking", 10)!;
  store.finish(record.id, 0);
  const removal = service.remove(record);
  await expect(
    Promise.resolve().then(() =>
      service.createFrom("ann", "copy", { eager: false } as never, record.id),
    ),
  ).rejects.toMatchObject({ code: "not_found" });
  release();
  await removal;
  expect(created).toBe(0);
  db.close();
});
