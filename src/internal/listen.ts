import type { AddressInfo, Server as NetServer } from "node:net";
import { advertisedHost, formatHostPort, parseAddr } from "./host.js";

/**
 * Starts listening on `addr` (`host:port`) and resolves once bound. A failure rejects with one
 * line naming the server and the address, `grpc server: listen 0.0.0.0:9000: address already in
 * use`, because an app starts several servers and node's own message says neither which one
 * failed nor (for a bad address) which setting; the system error is the cause, and its code
 * (`EADDRINUSE`) stays on the error for callers that branch on it.
 */
export async function listen(server: NetServer, addr: string, name: string): Promise<AddressInfo> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseAddr(addr));
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        reject(err);
      };
      server.once("error", onError);
      server.listen(port, host, () => {
        server.off("error", onError);
        resolve();
      });
    });
  } catch (err) {
    throw listenError(name, addr, err);
  }
  return server.address() as AddressInfo;
}

/** The endpoint a server advertises for its bound address: `scheme://ip:port`. */
export function endpointOf(scheme: string, address: AddressInfo): URL {
  return new URL(`${scheme}://${formatHostPort(advertisedHost(address.address), address.port)}`);
}

function listenError(name: string, addr: string, cause: unknown): NodeJS.ErrnoException {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const error: NodeJS.ErrnoException = new Error(
    `${name}: listen ${addr}: ${systemReason(cause)}`,
    { cause },
  );
  if (code !== undefined) error.code = code;
  return error;
}

// Node words a bind error `listen EADDRINUSE: address already in use 127.0.0.1:9000`: the
// reason is the middle part, the address is said once by the caller.
function systemReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, syscall } = err as NodeJS.ErrnoException;
  let text = err.message;
  const prefix = `${syscall ?? ""} ${code ?? ""}: `;
  if (syscall !== undefined && code !== undefined && text.startsWith(prefix)) {
    text = text.slice(prefix.length);
    const { address, port } = err as { address?: unknown; port?: unknown };
    const suffix = typeof port === "number" ? ` ${String(address)}:${port}` : ` ${String(address)}`;
    if (typeof address === "string" && text.endsWith(suffix)) text = text.slice(0, -suffix.length);
  }
  return text;
}
