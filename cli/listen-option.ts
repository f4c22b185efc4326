import { InvalidArgumentError } from "commander";
import { type ListenAddress, ListenAddressError, parseListenAddress } from "../support/metrics-server.ts";

/** A --metrics-listen value: HOST:PORT, or null for "off" (and port 0); a clear error otherwise. */
export function listenOption(value: string): ListenAddress | null {
  try {
    return parseListenAddress(value) ?? null;
  } catch (error) {
    if (error instanceof ListenAddressError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}
