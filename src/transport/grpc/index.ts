/**
 * The gRPC transport: `createGrpcServer` serves gRPC, Connect and gRPC-Web on one port, with
 * health and reflection.
 *
 * @module
 */
export { createGrpcServer } from "./server.js";
export { grpcCorsDefaults } from "./cors.js";
export { grpcBuiltinOperations } from "./builtin-operations.js";
export { createGrpcClient } from "./client.js";
export type { GrpcClient, GrpcClientOptions } from "./client.js";
export type { GrpcServer, GrpcServerOptions } from "./server.js";
export type { GrpcTlsOptions } from "./tls.js";
export type {
  BidiStreamingImpl,
  ClientStreamingImpl,
  ServerStreamingImpl,
  ServiceImpl,
  UnaryImpl,
} from "./service.js";
export { grpcTransport, GrpcTransporter } from "./transporter.js";
export type { RpcProtocol } from "./transporter.js";
export type { ServingStatus } from "./health.js";
export { formatGrpcTimeout, parseGrpcTimeout } from "./timeout.js";
