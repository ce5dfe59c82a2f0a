/**
 * Service registry and discovery: the seams the app registers through and clients resolve
 * `discovery:///<name>` through, and an in-memory registry.
 *
 * @module
 */
export { createMemoryRegistry } from "./memory.js";
export type { MemoryRegistry } from "./memory.js";
export type { Discovery, Registrar, ServiceInstance, Watcher } from "./registry.js";
export { createEtcdRegistry } from "./etcd.js";
export type { EtcdRegistry, EtcdRegistryOptions } from "./etcd.js";
export { discoveryResolver } from "./discovery-resolver.js";
export type { DiscoveryResolverOptions } from "./discovery-resolver.js";
