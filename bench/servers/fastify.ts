// Peer: fastify with a schema-less route, its fastest configuration.
import Fastify from "fastify";
import { keepAliveTimeout, payload, port, ready } from "./common.js";

const app = Fastify({
  logger: false,
  ...(keepAliveTimeout === undefined ? {} : { keepAliveTimeout }),
});
// The same bytes as proto3 JSON of HelloReply with defaults (bench/servers/common.ts).
app.get<{ Params: { name: string } }>("/helloworld/:name", (req) => ({
  message: payload ?? `Hello ${req.params.name}`,
}));
const address = await app.listen({ port: port(), host: "127.0.0.1" });
ready(Number(new URL(address).port));
