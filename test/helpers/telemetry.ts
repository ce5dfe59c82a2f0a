// Shared by the telemetry tests: a Prometheus scrape over a real socket, and a transport to put
// on a context for calling middleware directly.
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NodeHeader } from "kratos-ts/transport";
import type { Transporter } from "kratos-ts/transport";

/** The text a Prometheus request handler serves at `GET /metrics`, through a throwaway server. */
export async function scrape(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A transport of `kind` for `operation`, with empty headers. */
export function transportFor(kind: "http" | "grpc", operation: string): Transporter {
  return {
    kind,
    endpoint: `${kind}://127.0.0.1:1`,
    operation,
    requestHeader: new NodeHeader({}),
    replyHeader: new NodeHeader({}),
  };
}
