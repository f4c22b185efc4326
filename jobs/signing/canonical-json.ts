/**
 * One text for one value, whatever the order its keys were written or read in: objects' keys
 * sorted, undefined properties dropped (as BullMQ's JSON storage drops them), no whitespace. What
 * JSON cannot carry (a function, a symbol, NaN, a cycle) is refused rather than silently changed,
 * so a signer and a verifier can never disagree about what was signed.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, new Set());
}

function encode(value: unknown, path: Set<object>): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`not JSON: the number ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value !== "object") throw new TypeError(`not JSON: a ${typeof value}`);
  if (path.has(value)) throw new TypeError("not JSON: a cycle");
  path.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((item) => encode(item ?? null, path)).join(",")}]`;
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new TypeError(`not JSON: a ${prototype?.constructor?.name ?? "class"} instance`);
    }
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${encode(item, path)}`);
    return `{${entries.join(",")}}`;
  } finally {
    path.delete(value);
  }
}
