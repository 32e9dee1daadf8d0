/** HS256 JWTs: the only algorithm accepted; `sub` names the user, `exp` is required. */
import { errors, jwtVerify } from "jose";
import { isUserName } from "./api-keys.ts";

/**
 * The user a JWT names, or `undefined` when it must be refused: another algorithm (`none`
 * included), a bad signature, a missing or non-numeric `exp`, an expired token, a future `nbf`,
 * or a missing `sub`.
 */
export async function userForJwt(secret: Uint8Array, token: string): Promise<string | undefined> {
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ["HS256"],
      requiredClaims: ["sub", "exp"],
    });
    // jose checks `exp` only when present and numeric-looking; insist on a real number.
    if (typeof payload.exp !== "number" || !Number.isFinite(payload.exp)) return undefined;
    if (payload.nbf !== undefined && typeof payload.nbf !== "number") return undefined;
    const sub = payload.sub;
    return typeof sub === "string" && isUserName(sub) ? sub : undefined;
  } catch (error) {
    if (error instanceof errors.JOSEError || error instanceof TypeError) return undefined;
    throw error;
  }
}
