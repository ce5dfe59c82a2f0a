import type { DescService } from "@bufbuild/protobuf";
import { Health } from "./health.js";
import { ServerReflection, ServerReflectionAlpha } from "./reflection.js";

function operationsOf(service: DescService): string[] {
  return service.methods.map((m) => `/${service.typeName}/${m.name}`);
}

/**
 * The operations every gRPC server serves unless its options turn them off: grpc.health.v1
 * and server reflection (v1 and v1alpha). Checks of config that names operations (governance
 * rules, auth rules) take them as served, so a rule may govern health checks or reflection.
 */
export const grpcBuiltinOperations: readonly string[] = [
  ...operationsOf(Health),
  ...operationsOf(ServerReflection),
  ...operationsOf(ServerReflectionAlpha),
];
