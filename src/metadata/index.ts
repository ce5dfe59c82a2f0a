/**
 * Call metadata across hops (Kratos `metadata`): see also the `metadata` middleware.
 *
 * @module
 */
export {
  appendClientMetadata,
  clientMetadata,
  Metadata,
  serverMetadata,
  setServerMetadata,
} from "./metadata.js";
