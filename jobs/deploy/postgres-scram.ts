import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * PostgreSQL's stored SCRAM-SHA-256 secrets (RFC 5802/7677), as in pg_authid.rolpassword:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. The agent computes them itself, so
 * a password reaches PostgreSQL only as this verifier (never in a command line or a log), and a
 * re-run can tell whether a role's password is already the configured one without changing it.
 */

const PREFIX = "SCRAM-SHA-256";
export const SCRAM_ITERATIONS = 4096;

/**
 * PostgreSQL applies SASLprep to passwords, which leaves ASCII unchanged; NFKC is its
 * normalisation step for the rest (the mapping and prohibition steps rarely matter).
 */
function prepare(password: string): string {
  return password.normalize("NFKC");
}

function keys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(prepare(password), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    storedKey: createHash("sha256").update(clientKey).digest(),
    serverKey: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations: number = SCRAM_ITERATIONS,
): string {
  const { storedKey, serverKey } = keys(password, salt, iterations);
  return `${PREFIX}$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** True when `stored` (a rolpassword) is a SCRAM secret of `password`; false for md5, null or other. */
export function scramMatches(stored: string | null | undefined, password: string): boolean {
  const match = stored?.match(/^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/);
  if (!match?.[1] || !match[2] || !match[3] || !match[4]) return false;
  const { storedKey, serverKey } = keys(password, Buffer.from(match[2], "base64"), Number(match[1]));
  const expectedStored = Buffer.from(match[3], "base64");
  const expectedServer = Buffer.from(match[4], "base64");
  return (
    expectedStored.length === storedKey.length &&
    expectedServer.length === serverKey.length &&
    timingSafeEqual(expectedStored, storedKey) &&
    timingSafeEqual(expectedServer, serverKey)
  );
}
