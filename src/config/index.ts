/**
 * Config: sources (files, env, your own) merged in order, placeholders, typed values, scanning
 * into proto-generated messages, and watches for hot reload.
 *
 * @module
 */
export { createConfig } from "./config.js";
export type { Config, ConfigOptions } from "./config.js";
export { envSource } from "./env-source.js";
export type { EnvSourceOptions } from "./env-source.js";
export { fileSource, isConfigFile } from "./file-source.js";
export { ConfigError } from "./source.js";
export type { Source, SourceData } from "./source.js";
export type { UnknownKey } from "./unknown-keys.js";
export type { Value } from "./value.js";
export { followLive, liveValue } from "./live.js";
export type { FollowedLive, FollowLiveOptions, Live, LiveValue } from "./live.js";
