// Peer: connect-node's adapter on node:http (Connect protocol over HTTP/1.1).
import { connectNodeAdapter } from "@connectrpc/connect-node";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Greeter } from "../../api/helloworld/v1/greeter_pb.js";
import { port, ready } from "./common.js";

const handler = connectNodeAdapter({
  routes(router) {
    router.service(Greeter, {
      sayHello: (req) => ({ message: `Hello ${req.name}` }),
      getGreeting: () => ({}),
    });
  },
});
const server = http.createServer(handler);
server.listen(port(), "127.0.0.1", () => {
  ready((server.address() as AddressInfo).port);
});
