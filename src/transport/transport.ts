import type { DescMessage } from "@bufbuild/protobuf";
import { createContextKey } from "../context.js";
import type { Context } from "../context.js";
import type { Header } from "./header.js";

export type { Header } from "./header.js";

/**
 * The transports of kratos-ts. `broker` is an event subscriber (or publisher): its operation is
 * the topic, its request headers are the message's headers.
 */
export type Kind = "http" | "grpc" | "broker";

/** A server the app starts and stops (HTTP, gRPC, or your own). */
export interface Server {
  /**
   * The transport it serves, when it says. The app starts `broker` servers (event subscribers)
   * after all the others and stops them first: a message handler may call the service's own
   * ports, and no message is taken in while they are not there to serve it.
   */
  readonly kind?: Kind;
  /**
   * Binds and serves; resolves once the port is bound. The values of `ctx` (the app's context:
   * app info) are visible from every request context the server creates. A bind failure of the
   * kit's servers is one line naming the server and address (`grpc server: listen
   * 0.0.0.0:9000: address already in use`), with the system error as its cause.
   */
  start(ctx?: Context): Promise<void>;
  /**
   * Stops accepting, lets in-flight calls finish, then closes. When `signal` aborts (the app's
   * stop timeout), remaining connections are closed at once.
   */
  stop(signal?: AbortSignal): Promise<void>;
  /** The real listening address (`http://127.0.0.1:8000`, `grpc://...`); throws before start. */
  endpoint(): URL;
}

/** What middleware knows about the transport a call came through or goes out on. */
export interface Transporter {
  readonly kind: Kind;
  /** The server's endpoint (server side) or the target (client side). */
  readonly endpoint: string;
  /** The full method name: `/helloworld.v1.Greeter/SayHello`. */
  readonly operation: string;
  readonly requestHeader: Header;
  readonly replyHeader: Header;
}

const serverTransportKey = createContextKey<Transporter | undefined>(undefined, "server transport");
const clientTransportKey = createContextKey<Transporter | undefined>(undefined, "client transport");

/** The transport of the call a server is handling (Kratos `transport.FromServerContext`). */
export function serverTransport(ctx: Context): Transporter | undefined {
  return ctx.values.get(serverTransportKey);
}

/** The transport of the call a client is making (Kratos `transport.FromClientContext`). */
export function clientTransport(ctx: Context): Transporter | undefined {
  return ctx.values.get(clientTransportKey);
}

/** Puts the server transport into a context (for transports, and tests of middleware). */
export function setServerTransport(ctx: Context, transport: Transporter): void {
  ctx.values.set(serverTransportKey, transport);
}

/** Puts the client transport into a context (for client transports). */
export function setClientTransport(ctx: Context, transport: Transporter): void {
  ctx.values.set(clientTransportKey, transport);
}

const requestSchemaKey = createContextKey<DescMessage | undefined>(undefined, "request schema");

/**
 * The message type of the request a server is handling (protobuf routes and RPCs; undefined for
 * plain handlers). Validation and logging read it to treat the request as what it is.
 */
export function requestSchema(ctx: Context): DescMessage | undefined {
  return ctx.values.get(requestSchemaKey);
}

/** Records the request's message type (for transports). */
export function setRequestSchema(ctx: Context, schema: DescMessage): void {
  ctx.values.set(requestSchemaKey, schema);
}
