// Well-formed requests sent between batches of mutations: each must be answered correctly
// within a bound, or the server is hung (or starved). One per path a real client takes: a GET
// on the HTTP port, a gRPC unary call over HTTP/2 (node:http2) and a Connect JSON POST over
// HTTP/1.1 on the gRPC port. Every probe uses its own connection, closed afterwards.
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import http from "node:http";
import http2 from "node:http2";
import { HelloReplySchema, HelloRequestSchema } from "../../api/helloworld/v1/greeter_pb.js";
import { envelope } from "./mutators.js";

/** Resolves with undefined when every probe passed, or with what failed. */
export async function probeAll(
  httpPort: number,
  grpcPort: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const results = await Promise.all([
    httpProbe(httpPort, timeoutMs),
    grpcProbe(grpcPort, timeoutMs),
    connectProbe(grpcPort, timeoutMs),
  ]);
  const failed = results.filter((r) => r !== undefined);
  return failed.length === 0 ? undefined : failed.join("; ");
}

/** GET /helloworld/probe on the HTTP port. */
export function httpProbe(port: number, timeoutMs: number): Promise<string | undefined> {
  return http1Probe("HTTP GET /helloworld/probe", port, timeoutMs, {
    method: "GET",
    path: "/helloworld/probe",
  });
}

/** A Connect JSON unary call over HTTP/1.1 on the gRPC port. */
export function connectProbe(port: number, timeoutMs: number): Promise<string | undefined> {
  return http1Probe(
    "Connect POST SayHello",
    port,
    timeoutMs,
    {
      method: "POST",
      path: "/helloworld.v1.Greeter/SayHello",
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    },
    '{"name":"probe"}',
  );
}

function http1Probe(
  name: string,
  port: number,
  timeoutMs: number,
  options: http.RequestOptions,
  body?: string,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", () => undefined);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        done(
          res.statusCode === 200 && text.includes("Hello probe")
            ? undefined
            : `${name}: ${res.statusCode ?? "?"} ${text.slice(0, 200)}`,
        );
      });
    });
    const timer = setTimeout(() => {
      done(`${name}: no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    let settled = false;
    const done = (result: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    req.on("error", (err) => {
      done(`${name}: ${err.message}`);
    });
    req.end(body);
  });
}

/** A gRPC unary call (SayHello) over HTTP/2 on the gRPC port. */
export function grpcProbe(port: number, timeoutMs: number): Promise<string | undefined> {
  const name = "gRPC SayHello";
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let settled = false;
    const done = (result: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => {
      done(`${name}: no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    session.on("error", (err: Error) => {
      done(`${name}: ${err.message}`);
    });
    const stream = session.request({
      ":method": "POST",
      ":path": "/helloworld.v1.Greeter/SayHello",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    let status = "";
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("trailers", (t: http2.IncomingHttpHeaders) => {
      status = String(t["grpc-status"] ?? "");
    });
    stream.on("response", (h) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
    });
    stream.on("error", (err: Error) => {
      done(`${name}: ${err.message}`);
    });
    stream.on("close", () => {
      const body = Buffer.concat(chunks);
      if (status !== "0" || body.length < 5) {
        done(`${name}: grpc-status ${JSON.stringify(status)}, ${body.length} body bytes`);
        return;
      }
      let message: string;
      try {
        message = fromBinary(HelloReplySchema, body.subarray(5)).message;
      } catch (err) {
        message = `undecodable reply: ${String(err)}`;
      }
      done(message === "Hello probe" ? undefined : `${name}: reply ${JSON.stringify(message)}`);
    });
    stream.end(
      envelope(
        0,
        Buffer.from(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "probe" }))),
      ),
    );
  });
}
