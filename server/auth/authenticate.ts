/** Turns an `Authorization` header into a user name, or refuses with a 401. */
import { ServerError } from "../errors.ts";
import type { KeyStore } from "../store/keys.ts";
import { userForApiKey } from "./api-keys.ts";
import { userForJwt } from "./jwt.ts";

/** What authentication needs: the key registry, and the JWT secret when JWTs are enabled. */
export interface Authenticator {
  /** The user the request's credentials name; throws `unauthorized` otherwise. */
  authenticate(authorization: string | undefined): Promise<string>;
}

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** Creates the authenticator. */
export function createAuthenticator(keys: KeyStore, jwtSecret: string | undefined): Authenticator {
  const secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : undefined;
  return {
    async authenticate(authorization) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
      if (!match) {
        throw new ServerError(
          "unauthorized",
          "send 'Authorization: Bearer <token>' with an API key or a JWT",
        );
      }
      const token = match[1]!;
      const user =
        secret && jwtShape.test(token)
          ? await userForJwt(secret, token)
          : userForApiKey(keys, token);
      // A removed user is refused with whatever it presents: its keys went, its JWTs go too.
      if (!user || keys.isRemoved(user))
        throw new ServerError("unauthorized", "the token is not valid; check the API key or JWT");
      return user;
    },
  };
}
