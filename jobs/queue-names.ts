/**
 * Where a site's queues live in the control-plane Redis. One action queue per node, so that a
 * node runs its actions one at a time and a dead node's queue waits for it without blocking others.
 */
export function queuePrefix(site: string): string {
  return `harbor-ha:${site}`;
}

export function nodeQueueName(node: string): string {
  return `node.${node}`;
}
