// kratos-ts: server streaming on createGrpcServer, the echo fixture's Count (test/fixtures/http):
// one request, `upTo` replies of one int32 each, so the cost measured is the per-message path
// of a stream (framing, encoding, writes), not the work of making a message.
import { EchoService } from "../../test/fixtures/http/gen/echo/v1/echo_pb.js";
import { createGrpcServer } from "../../src/transport/grpc/server.js";
import { port, ready } from "./common.js";
import { benchChain } from "./layout-middleware.js";

const server = createGrpcServer({ addr: `127.0.0.1:${port()}`, middleware: await benchChain() });
server.register(EchoService, {
  // Every message is ready at once: nothing to await, as in grpc-js's loop of writes.
  // eslint-disable-next-line @typescript-eslint/require-await
  async *count(req) {
    for (let i = 1; i <= req.upTo; i++) yield { number: i };
  },
});
await server.start();
ready(Number(server.endpoint().port));
