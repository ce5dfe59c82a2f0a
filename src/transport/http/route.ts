import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Context } from "../../context.js";
import type { RouteBinding } from "../../http-rule/compile.js";

/**
 * One `google.api.http` binding of an RPC with its handler, as protoc-gen-kratos-http emits it
 * for `server.route(...)`. Hand-written routes use the same shape.
 */
export interface HttpRoute<
  I extends DescMessage = DescMessage,
  O extends DescMessage = DescMessage,
> extends RouteBinding<I, O> {
  /** The service method. */
  handler: (req: MessageShape<I>, ctx: Context) => Promise<MessageShape<O> | MessageInitShape<O>>;
}
