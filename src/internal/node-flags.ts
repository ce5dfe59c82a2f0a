/**
 * Node/V8 flags a kratos-ts service process starts with: the layout's `npm start`, the
 * generated project's `npm start`, `kratos-ts run` and the benchmark servers all use these.
 *
 * `--max-semi-space-size=4` caps V8's young generation at 2 x 4 MiB. With Node's default, V8
 * grows it to 2 x 64 MiB on a machine with this much memory as soon as a server allocates fast
 * (any HTTP/2 server at full load does, a bare node:http2 one included), and RSS follows: ~280
 * MiB instead of ~140 MiB for the helloworld gRPC service at full load. The price is more
 * scavenges: ~5% of gRPC unary throughput, none measurable on HTTP/1.1 (bench/README.md). These
 * flags cannot be set from inside the process: V8 sizes its heap at startup.
 */
export const serviceNodeFlags: readonly string[] = ["--max-semi-space-size=4"];
