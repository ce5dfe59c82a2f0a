// Throwaway certificates for TLS tests, made by openssl (on the machine image) when a test runs:
// none is committed, and each expires a day after it is made.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir } from "./repo.js";

/** A key and its certificate, as PEM; `keyFile` / `certFile` are their paths. */
export interface KeyPair {
  key: Buffer;
  cert: Buffer;
  keyFile: string;
  certFile: string;
}

/** A test CA, a server and a client certificate it signed, and a client it did not sign. */
export interface TestCerts {
  /** The CA's certificate (PEM) and its path: trust it for the server, or ask clients for it. */
  ca: Buffer;
  caFile: string;
  /** For 127.0.0.1 and localhost. */
  server: KeyPair;
  /** A client certificate signed by the CA (mTLS). */
  client: KeyPair;
  /** A self-signed client certificate: not under the CA. */
  stranger: KeyPair;
  /** Deletes the files. */
  remove(): void;
}

const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Makes a fresh {@link TestCerts} in a temp dir (EC P-256 keys: fast to make). */
export function makeTestCerts(): TestCerts {
  const dir = tempDir("kratos-ts-certs-");
  const file = (name: string) => join(dir.path, name);
  const openssl = (args: string[]) => {
    const made = run("openssl", ["req", "-x509", ...ecKey, "-days", "1", ...args]);
    if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  };
  const pair = (name: string, subject: string, extra: string[]): KeyPair => {
    openssl([
      "-keyout",
      file(`${name}.key`),
      "-out",
      file(`${name}.pem`),
      "-subj",
      subject,
      ...extra,
    ]);
    return {
      key: readFileSync(file(`${name}.key`)),
      cert: readFileSync(file(`${name}.pem`)),
      keyFile: file(`${name}.key`),
      certFile: file(`${name}.pem`),
    };
  };
  const ca = pair("ca", "/CN=kratos-ts test CA", [
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  const signed = ["-CA", ca.certFile, "-CAkey", ca.keyFile];
  const leaf = ["-addext", "basicConstraints=critical,CA:FALSE"];
  return {
    ca: ca.cert,
    caFile: ca.certFile,
    server: pair("server", "/CN=localhost", [
      ...signed,
      ...leaf,
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ]),
    client: pair("client", "/CN=test client", [
      ...signed,
      ...leaf,
      "-addext",
      "extendedKeyUsage=clientAuth",
    ]),
    stranger: pair("stranger", "/CN=stranger", [...leaf, "-addext", "extendedKeyUsage=clientAuth"]),
    remove: dir.remove,
  };
}
