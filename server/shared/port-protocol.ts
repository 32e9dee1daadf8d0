/**
 * The port method of the agent: the way a preview reaches a port inside the sandbox. The agent
 * connects to the port from inside (its network namespace), then dials back to the tunnel socket
 * the server listens on, says which request it serves, and pipes the two together.
 */

/** The port engine's agent methods, by name: `{ params, result }`. */
export type PortMethods = {
  /** Connects to `port` inside, then to `tunnel`; resolves once the bytes flow. */
  port_open: {
    params: {
      port: number;
      /** The tunnel socket's path as the agent sees it. */
      tunnel: string;
      /** The random key that the agent writes first, so the server knows which request it is. */
      key: string;
    };
    /** The address inside that answered (`127.0.0.1`, `::1` or one of the sandbox's own). */
    result: { address: string };
  };
};

/** The agent failure code of a port that nothing listens on. */
export const portClosedCode = "port_closed";
