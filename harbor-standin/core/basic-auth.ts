import { createHash, timingSafeEqual } from "node:crypto";

/**
 * HTTP basic authentication for the registry API, as `docker login` and skopeo speak it: a
 * request without (good) credentials gets 401 with a Basic challenge, and the client retries
 * with `Authorization: Basic base64(user:password)`.
 */

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export function parseBasicAuth(header: string | undefined): Credentials | undefined {
  const match = header?.match(/^\s*Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Compares digests, so the time taken says nothing about how much of the password matched. */
function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function isAuthorized(header: string | undefined, expected: Credentials): boolean {
  const given = parseBasicAuth(header);
  if (!given) return false;
  const userOk = sameSecret(given.username, expected.username);
  const passwordOk = sameSecret(given.password, expected.password);
  return userOk && passwordOk;
}

export const REGISTRY_REALM = "harbor";

/** The 401 a registry client understands: Docker's API version header and a Basic challenge. */
export function unauthorizedResponse(realm = REGISTRY_REALM): {
  status: 401;
  headers: Record<string, string>;
  body: string;
} {
  return {
    status: 401,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Docker-Distribution-Api-Version": "registry/2.0",
      "WWW-Authenticate": `Basic realm="${realm}"`,
    },
    body: JSON.stringify({
      errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }],
    }),
  };
}
