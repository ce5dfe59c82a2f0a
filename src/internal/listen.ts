import type { AddressInfo, Server as NetServer } from "node:net";
import { advertisedHost, formatHostPort, parseAddr } from "./host.js";

/** Starts listening on `addr` (`host:port`) and resolves once bound; rejects with the bind error. */
export async function listen(server: NetServer, addr: string): Promise<AddressInfo> {
  const { host, port } = parseAddr(addr);
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
  return server.address() as AddressInfo;
}

/** The endpoint a server advertises for its bound address: `scheme://ip:port`. */
export function endpointOf(scheme: string, address: AddressInfo): URL {
  return new URL(`${scheme}://${formatHostPort(advertisedHost(address.address), address.port)}`);
}
