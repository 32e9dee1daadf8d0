/** The conformance suite on the bubblewrap backend (needs root and bwrap, as the server does). */
import { bubblewrapBackendFactory } from "../../server/sandbox/bubblewrap.ts";
import { describeBackendConformance } from "./conformance.ts";

describeBackendConformance("bubblewrap", bubblewrapBackendFactory);
