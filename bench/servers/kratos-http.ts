// kratos-ts: the generated helloworld route on createHttpServer, with the layout's middleware.
import { registerGreeterHTTPServer } from "../../api/helloworld/v1/greeter_http.js";
import { createHttpServer } from "../../src/transport/http/server.js";
import { keepAliveTimeout, port, ready } from "./common.js";
import { Greeter } from "./greeter.js";
import { benchChain } from "./layout-middleware.js";

const server = createHttpServer({
  addr: `127.0.0.1:${port()}`,
  middleware: await benchChain(),
  ...(keepAliveTimeout === undefined ? {} : { keepAliveTimeout }),
});
registerGreeterHTTPServer(server, new Greeter());
await server.start();
ready(Number(server.endpoint().port));
