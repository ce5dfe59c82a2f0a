import { networkInterfaces } from "node:os";

/** A listening address: `0.0.0.0:8000`, `:8000`, `[::1]:0`, `localhost:9000`. */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port` (IPv6 in brackets; empty host = all interfaces); throws on nonsense. */
export function parseAddr(addr: string): HostPort {
  const colon = addr.lastIndexOf(":");
  if (colon < 0) throw new Error(`address "${addr}" has no port (host:port)`);
  let host = addr.slice(0, colon);
  const portText = addr.slice(colon + 1);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(portText);
  if (portText === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`address "${addr}" has a bad port "${portText}"`);
  }
  return { host: host === "" ? "0.0.0.0" : host, port };
}

/**
 * The host to advertise for a listening address: the address itself, or for a bind to all
 * interfaces (0.0.0.0, ::) the first non-loopback IPv4, as Kratos does; loopback as a last resort.
 */
export function advertisedHost(bound: string): string {
  if (bound !== "0.0.0.0" && bound !== "::" && bound !== "") return bound;
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === "IPv4" && !info.internal) return info.address;
    }
  }
  return "127.0.0.1";
}

/** `host:port` for a URL (brackets around IPv6). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
