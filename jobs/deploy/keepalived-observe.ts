/**
 * Reading what keepalived did from the outside (pure: no I/O): the addresses on the VIP's
 * interface and the state changes in keepalived's own log.
 */

export interface InterfaceAddress {
  readonly address: string;
  readonly prefix: number;
}

/**
 * The IPv4 addresses in `ip -o -4 addr show dev IFACE` output, one line per address:
 * `2: eth0    inet 10.77.0.100/24 scope global secondary eth0\       valid_lft forever ...`
 */
export function parseIpv4Addresses(output: string): InterfaceAddress[] {
  const addresses: InterfaceAddress[] = [];
  for (const match of output.matchAll(/\binet (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b/g)) {
    const [, address, prefix] = match;
    if (address && prefix) addresses.push({ address, prefix: Number(prefix) });
  }
  return addresses;
}

/** Whether the interface holds the address (any prefix: a holder with a wrong prefix still holds it). */
export function holdsAddress(output: string, address: string): boolean {
  return parseIpv4Addresses(output).some((entry) => entry.address === address);
}

export type LoggedState = "MASTER" | "BACKUP" | "FAULT";

/**
 * The states an instance entered, oldest first, from keepalived's log lines such as
 * `Wed Nov 25 17:30:18 2026: (harbor_vip) Entering MASTER STATE` (or `... BACKUP STATE (init)`).
 */
export function loggedStates(log: string, instance: string): LoggedState[] {
  const states: LoggedState[] = [];
  const marker = `(${instance}) Entering `;
  for (const line of log.split("\n")) {
    const at = line.indexOf(marker);
    if (at < 0) continue;
    const state = line.slice(at + marker.length).split(" ")[0];
    if (state === "MASTER" || state === "BACKUP" || state === "FAULT") states.push(state);
  }
  return states;
}
