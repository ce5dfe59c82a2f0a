// Message headers between the kit (lower-case names, one value) and NATS (MIME-style names,
// case-sensitive lookups).
import type { MsgHdrs } from "@nats-io/transport-node";
import type { MessageHeaders } from "../broker.js";

/**
 * NATS headers of `h`, or undefined when there are none (a message without a header block);
 * `headers` is the client's factory (`@nats-io/transport-node`'s `headers`, loaded lazily).
 */
export function toNatsHeaders(
  h: MessageHeaders | undefined,
  headers: () => MsgHdrs,
): MsgHdrs | undefined {
  if (h === undefined) return undefined;
  let out: MsgHdrs | undefined;
  for (const key in h) {
    const value = h[key];
    if (value !== undefined) (out ??= headers()).set(key, value);
  }
  return out;
}

/** The headers of a received message, names lower-cased (NATS's own `Nats-Msg-Id` included). */
export function fromNatsHeaders(h: MsgHdrs | undefined): MessageHeaders {
  const out: MessageHeaders = {};
  if (h === undefined) return out;
  for (const key of h.keys()) out[key.toLowerCase()] = h.get(key);
  return out;
}
