import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { Logger } from "kratos-ts/log";
import type { CorsOptions } from "kratos-ts/transport";
import type { GrpcTlsOptions } from "kratos-ts/transport/grpc";
import type { Server_CORS, Server_TLS } from "../conf/conf_pb.js";

/** The listening address of a server's config; rejects networks other than tcp by key. */
export function listenAddr(
  key: string,
  conf: { network: string; addr: string } | undefined,
  fallback: string,
): string {
  const network = conf?.network || "tcp";
  if (network !== "tcp") throw new Error(`${key}.network: unsupported "${network}" (use tcp)`);
  return conf?.addr || fallback;
}

/** A config duration in milliseconds; unset is 0 (no timeout). */
export function durationMs(duration: Duration | undefined): number {
  if (duration === undefined) return 0;
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1e6);
}

/**
 * A server's `timeout` in milliseconds: unset leaves the kit's default (1 s, as Go Kratos), `0s`
 * turns the deadline off.
 */
export function timeoutMs(duration: Duration | undefined): number | undefined {
  return duration === undefined ? undefined : durationMs(duration);
}

/**
 * A server's CORS options from `server.<http|grpc>.cors`: off (undefined) unless it lists
 * origins; fields left out take the server's defaults. Refused origins are logged at debug.
 */
export function corsOptions(conf: Server_CORS | undefined, log: Logger): CorsOptions | undefined {
  if (conf === undefined || conf.origins.length === 0) return undefined;
  const list = (values: string[]) => (values.length === 0 ? undefined : values);
  const options: CorsOptions = {
    origins: conf.origins,
    credentials: conf.credentials,
    logger: log,
  };
  const methods = list(conf.methods);
  if (methods !== undefined) options.methods = methods;
  const headers = list(conf.headers);
  if (headers !== undefined) options.headers = headers;
  const expose = list(conf.exposeHeaders);
  if (expose !== undefined) options.exposeHeaders = expose;
  if (conf.maxAge !== undefined) options.maxAge = Math.floor(durationMs(conf.maxAge) / 1000);
  return options;
}

/**
 * A server's TLS options from `<key>` (`server.grpc.tls`): off (undefined) unless `cert_file` is
 * set; with `client_ca_file`, clients must show a certificate that CA signed (mTLS). Relative
 * paths are relative to the working directory. A file that cannot be read or used fails the
 * start with one line naming the key and the file.
 */
export function tlsOptions(key: string, conf: Server_TLS | undefined): GrpcTlsOptions | undefined {
  if (conf === undefined || (conf.certFile === "" && conf.keyFile === "")) {
    if (conf?.clientCaFile) throw new Error(`${key}.cert_file: required with client_ca_file`);
    return undefined;
  }
  if (conf.certFile === "") throw new Error(`${key}.cert_file: required with key_file`);
  if (conf.keyFile === "") throw new Error(`${key}.key_file: required with cert_file`);
  const read = (field: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new Error(`${key}.${field}: cannot read ${path} (${reason})`, { cause: err });
    }
  };
  const options: GrpcTlsOptions = {
    cert: read("cert_file", conf.certFile),
    key: read("key_file", conf.keyFile),
  };
  if (conf.clientCaFile !== "") {
    options.ca = read("client_ca_file", conf.clientCaFile);
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  try {
    // Now rather than in the server: a key that does not match its certificate, or a file that
    // is not PEM, is then named by its key.
    createSecureContext(options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${key}: cannot use ${conf.certFile} and ${conf.keyFile} (${reason})`, {
      cause: err,
    });
  }
  return options;
}
