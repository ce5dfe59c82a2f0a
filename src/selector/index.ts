/**
 * Client-side load balancing, as Kratos's `selector`: nodes built from registry instances,
 * filters (version, metadata, custom), and the balancers p2c (default), wrr and random.
 *
 * @module
 */
export { createSelector } from "./default-selector.js";
export type { SelectorOptions } from "./default-selector.js";
export { metadataFilter, versionFilter } from "./filter.js";
export { defaultWeight, nodesFromInstances, nodesFromUrls } from "./node.js";
export { p2cBalancer } from "./p2c/balancer.js";
export type { P2cOptions } from "./p2c/balancer.js";
export { randomBalancer } from "./random/balancer.js";
export { wrrBalancer } from "./wrr/balancer.js";
export type {
  Balancer,
  BalancerEnv,
  BalancerFactory,
  DoneInfo,
  Node,
  NodeFilter,
  Picked,
  PickResult,
  SelectOptions,
  Selected,
  Selector,
} from "./selector.js";
export { balancerNames, isBalancerName, liveBalancer } from "./live.js";
export type { BalancerName } from "./live.js";
