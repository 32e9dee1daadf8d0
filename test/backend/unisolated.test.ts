/** The conformance suite on the unisolated development backend (`--isolation none`). */
import { unisolatedBackendFactory } from "../../server/sandbox/unisolated.ts";
import { describeBackendConformance } from "./conformance.ts";

describeBackendConformance("none", unisolatedBackendFactory);
