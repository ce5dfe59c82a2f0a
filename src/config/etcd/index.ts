/**
 * The etcd config source (`kratos-ts/config/etcd`), apart from `kratos-ts/config` so that
 * importing config does not load the etcd client.
 *
 * @module
 */
export { etcdSource } from "../etcd-source.js";
export type { EtcdSourceOptions } from "../etcd-source.js";
