/** The conformance suite on the bubblewrap backend (needs root and bwrap, as the server does). */
import { it } from "vitest";
import { bubblewrapBackendFactory } from "../../server/sandbox/bubblewrap.ts";
import { sandboxHostMissing } from "../support/server.ts";
import { describeBackendConformance } from "./conformance.ts";

if (sandboxHostMissing) it.skip(`backend conformance: bubblewrap ${sandboxHostMissing}`);
else describeBackendConformance("bubblewrap", bubblewrapBackendFactory);
