import { createHmac, timingSafeEqual } from "node:crypto";
import type { SiteKey } from "../../config/site-key.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * Every job on every queue is an envelope: the payload and an HMAC-SHA256, made with the site key
 * (never in Redis), over the queue, the job's name and id, the payload, when it was issued, when
 * it expires and the fencing token it runs under. Whoever can write to Redis but lacks the key
 * can neither make a job nor move one to another queue, node, id or time. Pure: the clock comes in.
 */

export const SIGNATURE_VERSION = 1;
/** The largest payload a consumer reads (its canonical JSON); anything bigger is refused unread. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** How far apart the signer's and the consumer's clocks may be (NTP keeps real hosts far closer). */
export const CLOCK_SKEW_MS = 5_000;

export interface JobAuth {
  readonly v: typeof SIGNATURE_VERSION;
  /** ms since the epoch, on the signer's clock. */
  readonly issuedAt: number;
  /** After this nobody waits for the result: the job must not run. */
  readonly expiresAt: number;
  /** The controller lease's token a remediation job runs under; null for every other job. */
  readonly fencingToken: number | null;
  /** HMAC-SHA256, hex. */
  readonly signature: string;
}

export interface SignedJobData<P = unknown> {
  readonly payload: P;
  readonly auth: JobAuth;
}

/** What a signature binds a payload to: moving a job to another queue or id breaks it. */
export interface JobAddress {
  readonly queue: string;
  readonly name: string;
  readonly jobId: string;
}

export interface SignOptions {
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly fencingToken?: number | null;
}

export type RefusalReason =
  | "unknown job"
  | "not signed"
  | "oversized"
  | "bad signature"
  | "expired"
  | "issued in the future"
  | "replayed"
  | "malformed"
  | "approval not sealed";

export type Verified<P = unknown> =
  | { readonly ok: true; readonly payload: P; readonly auth: JobAuth }
  | { readonly ok: false; readonly reason: RefusalReason; readonly detail: string };

export class PayloadTooLargeError extends Error {}

function mac(
  key: SiteKey,
  address: JobAddress,
  payloadJson: string,
  auth: Omit<JobAuth, "signature">,
): Buffer {
  // An array of fixed order: no field can be read as another, whatever its content.
  const message = JSON.stringify([
    `harbor-ha-job-v${auth.v}`,
    address.queue,
    address.name,
    address.jobId,
    auth.issuedAt,
    auth.expiresAt,
    auth.fencingToken,
    payloadJson,
  ]);
  return createHmac("sha256", key.bytes).update(message).digest();
}

/** The fencing token a payload carries (remediation requests do), else null. */
export function payloadFencingToken(payload: unknown): number | null {
  if (typeof payload !== "object" || payload === null || !("fencingToken" in payload)) return null;
  const token = (payload as { fencingToken: unknown }).fencingToken;
  return typeof token === "number" ? token : null;
}

export function signJob<P>(
  key: SiteKey,
  address: JobAddress,
  payload: P,
  options: SignOptions,
): SignedJobData<P> {
  const payloadJson = canonicalJson(payload);
  const size = Buffer.byteLength(payloadJson);
  if (size > MAX_PAYLOAD_BYTES) {
    throw new PayloadTooLargeError(
      `${address.name} payload is ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit`,
    );
  }
  const unsigned = {
    v: SIGNATURE_VERSION,
    issuedAt: options.issuedAt,
    expiresAt: options.expiresAt,
    fencingToken: options.fencingToken ?? payloadFencingToken(payload),
  } as const;
  return {
    payload,
    auth: { ...unsigned, signature: mac(key, address, payloadJson, unsigned).toString("hex") },
  };
}

const refuse = (reason: RefusalReason, detail: string): Verified<never> => ({ ok: false, reason, detail });

function readAuth(data: unknown): { payload: unknown; auth: JobAuth } | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { payload, auth } = data as { payload?: unknown; auth?: Partial<JobAuth> };
  if (Object.keys(data).length !== 2 || payload === undefined || typeof auth !== "object" || !auth)
    return undefined;
  const integer = (value: unknown) => Number.isSafeInteger(value);
  if (
    auth.v !== SIGNATURE_VERSION ||
    !integer(auth.issuedAt) ||
    !integer(auth.expiresAt) ||
    !(auth.fencingToken === null || integer(auth.fencingToken)) ||
    typeof auth.signature !== "string" ||
    !/^[0-9a-f]{64}$/.test(auth.signature)
  ) {
    return undefined;
  }
  return { payload, auth: auth as JobAuth };
}

/**
 * The signature, the size and the clock, in that order; the schema and the replay check come
 * after (job-check.ts). The comparison is constant-time, so timing tells nothing about the MAC.
 */
export function verifyJob(key: SiteKey, address: JobAddress, data: unknown, now: number): Verified {
  const envelope = readAuth(data);
  if (!envelope)
    return refuse("not signed", `${address.name} ${address.jobId} carries no {payload, auth} envelope`);
  const { payload, auth } = envelope;
  let payloadJson: string;
  try {
    payloadJson = canonicalJson(payload);
  } catch (error) {
    return refuse("malformed", (error as Error).message);
  }
  const size = Buffer.byteLength(payloadJson);
  if (size > MAX_PAYLOAD_BYTES) {
    return refuse("oversized", `payload of ${size} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
  const expected = mac(key, address, payloadJson, auth);
  const given = Buffer.from(auth.signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(
      "bad signature",
      `${address.name} ${address.jobId} on ${address.queue} was not signed with this site's key`,
    );
  }
  if (now > auth.expiresAt + CLOCK_SKEW_MS) {
    return refuse(
      "expired",
      `expired ${Math.round((now - auth.expiresAt) / 1000)} s ago (at ${new Date(auth.expiresAt).toISOString()})`,
    );
  }
  if (auth.issuedAt > now + CLOCK_SKEW_MS) {
    return refuse(
      "issued in the future",
      `issued at ${new Date(auth.issuedAt).toISOString()}, ${auth.issuedAt - now} ms ahead of this host's clock`,
    );
  }
  const token = payloadFencingToken(payload);
  if (token !== null && token !== auth.fencingToken) {
    return refuse(
      "malformed",
      `payload fencing token ${token} is not the signed ${String(auth.fencingToken)}`,
    );
  }
  return { ok: true, payload, auth };
}
