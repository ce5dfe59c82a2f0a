import type { Context } from "../../context.js";
import { NodeHeader } from "../header.js";
import { serverTransport } from "../transport.js";
import type { Kind, Transporter } from "../transport.js";

/** The protocols the gRPC server speaks on its port. */
export type RpcProtocol = "grpc" | "grpc-web" | "connect";

/** The server transport of a gRPC, gRPC-Web or Connect call. */
export class GrpcTransporter implements Transporter {
  readonly kind: Kind = "grpc";
  readonly requestHeader: NodeHeader;
  // Created on first use: most calls set neither.
  #replyHeader: NodeHeader | undefined;
  #replyTrailer: NodeHeader | undefined;

  constructor(
    readonly endpoint: string,
    readonly operation: string,
    readonly protocol: RpcProtocol,
    requestHeaders: Record<string, string | string[] | undefined>,
  ) {
    this.requestHeader = new NodeHeader(requestHeaders);
  }

  /** Headers sent before the first reply message (gRPC response metadata). */
  get replyHeader(): NodeHeader {
    return (this.#replyHeader ??= new NodeHeader({}));
  }

  /** Trailers sent after the last reply message (gRPC and gRPC-Web; Connect unary as headers). */
  get replyTrailer(): NodeHeader {
    return (this.#replyTrailer ??= new NodeHeader({}));
  }

  /** The reply headers, or undefined when no one set any. */
  get replyHeaderIfSet(): NodeHeader | undefined {
    return this.#replyHeader;
  }

  /** The reply trailers, or undefined when no one set any. */
  get replyTrailerIfSet(): NodeHeader | undefined {
    return this.#replyTrailer;
  }
}

/** The gRPC transport of a server call, or undefined on other transports. */
export function grpcTransport(ctx: Context): GrpcTransporter | undefined {
  const t = serverTransport(ctx);
  return t instanceof GrpcTransporter ? t : undefined;
}
