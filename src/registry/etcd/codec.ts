import type { ServiceInstance } from "../registry.js";

/**
 * The value stored under an instance's key: exactly Go Kratos's JSON (`registry.ServiceInstance`
 * marshalled by encoding/json), keys in its field order, so Go and TypeScript services discover
 * each other through the same etcd.
 */
export function encodeInstance(instance: ServiceInstance): string {
  const { id, name, version, metadata, endpoints } = instance;
  return JSON.stringify({ id, name, version, metadata, endpoints });
}

/**
 * Reads a stored value, or returns an Error saying why it is not an instance. Go marshals a nil
 * map or slice as `null`, so `metadata` and `endpoints` may be null (read as empty).
 */
export function decodeInstance(value: string): ServiceInstance | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return new Error("not a JSON object");
  }
  const o = parsed as Record<string, unknown>;
  const { id, name, version } = o;
  if (typeof id !== "string" || typeof name !== "string") {
    return new Error("id and name must be strings");
  }
  if (version !== undefined && version !== null && typeof version !== "string") {
    return new Error("version must be a string");
  }
  const metadata: Record<string, string> = {};
  if (o.metadata !== undefined && o.metadata !== null) {
    if (typeof o.metadata !== "object" || Array.isArray(o.metadata)) {
      return new Error("metadata must be an object of strings");
    }
    for (const [k, v] of Object.entries(o.metadata)) {
      if (typeof v !== "string") return new Error("metadata must be an object of strings");
      metadata[k] = v;
    }
  }
  const endpoints: string[] = [];
  if (o.endpoints !== undefined && o.endpoints !== null) {
    if (!Array.isArray(o.endpoints)) return new Error("endpoints must be an array of strings");
    for (const e of o.endpoints as unknown[]) {
      if (typeof e !== "string") return new Error("endpoints must be an array of strings");
      endpoints.push(e);
    }
  }
  return { id, name, version: version ?? "", metadata, endpoints };
}
