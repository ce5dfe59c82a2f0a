// The HTTP port: valid requests for every google.api.http binding shape (Greeter and the
// Bookstore fixture), mutated in their parts (method, path, query, headers, framing, body) and
// as bytes, sent over a raw socket. Any 5xx answer is a failure (see verdict.ts).
import { gzipSync } from "node:zlib";
import type { Family } from "./family.js";
import { fixLength, framing, runHttp1Case, setHeader } from "./http1-case.js";
import { request, serializeRequest } from "./http1-wire.js";
import type { Http1Request } from "./http1-wire.js";
import {
  bomb,
  mutateBytes,
  mutateJson,
  mutatePath,
  mutateProto,
  unknownFieldFlood,
} from "./mutators.js";
import type { Prng } from "./prng.js";
import { sampleString } from "./rpc-corpus.js";

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const jsonType: [string, string] = ["Content-Type", "application/json"];

/** Query values for bookstore.v1.Bookstore/Echo, one per field type. */
function echoQuery(rng: Prng): string {
  const pairs = [
    ["s", sampleString(rng)],
    ["i32", rng.pick(["0", "-2147483648", "2147483647", "7"])],
    ["i64", rng.pick(["9223372036854775807", "-1", "0"])],
    ["u32", "4294967295"],
    ["u64", "18446744073709551615"],
    ["s32", "-5"],
    ["f64", "1"],
    ["f", rng.pick(["1.5", "NaN", "Infinity", "-0"])],
    ["d", "1e308"],
    ["b", rng.pick(["true", "false"])],
    ["by", rng.pick(["AAEC", "-_8", ""])],
    ["genre", rng.pick(["GENRE_FICTION", "2"])],
    ["tags", "a"],
    ["tags", "b"],
    ["ids", "1"],
    ["genres", "GENRE_HISTORY"],
    ["nested.a", "x"],
    ["nested.deep.x", "3"],
    ["ts", "2020-01-01T00:00:00Z"],
    ["dur", "1.5s"],
    ["mask", "a,b.c"],
    ["wi", "5"],
    ["ws", "w"],
    ["wb", "true"],
    [rng.pick(["alt_a", "altA"]), "x"],
    ["opt", ""],
    [rng.pick(["user_name", "userName"]), "u"],
  ];
  const chosen = pairs.filter(() => rng.chance(0.4));
  return chosen.map(([k = "", v = ""]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

/** A valid request for one of the HTTP routes (or a path with no route). */
function template(rng: Prng): Http1Request {
  const name = encodeURIComponent(sampleString(rng) || "x");
  const book = { title: sampleString(rng), genre: "GENRE_FICTION", authors: ["a"] };
  switch (rng.int(0, 15)) {
    case 0:
      return request("GET", `/helloworld/${name}`, []);
    case 1:
      return rng.chance(0.5)
        ? request("GET", `/v1/greetings/${rng.pick(["1", "2", "0", "-1"])}`, [])
        : request("POST", "/v1/greetings", [jsonType], json({ name: sampleString(rng) }));
    case 2:
      return request("GET", `/v1/shelves/${rng.pick(["1", "9223372036854775807"])}`, []);
    case 3:
      return request("GET", "/v1/shelves/1/books/2", [["Accept", "application/x-protobuf"]]);
    case 4:
      return request("GET", `/v1/books/a/${name}/c`, []);
    case 5:
      return request("POST", "/v1/shelves/1/books?request_id=r", [jsonType], json(book));
    case 6:
      return request("PATCH", "/v1/books/7?update_mask=title", [jsonType], json(book));
    case 7:
      return request("DELETE", "/v1/books/1?force=true", []);
    case 8:
      return request("PUT", "/v1/shelves/3", [jsonType], json({ theme: sampleString(rng) }));
    case 9:
      return request("POST", "/v1/books/1:cancel", [jsonType], json({ reason: "r" }));
    case 10:
      return request("GET", "/v1/books:search?query=x&genres=GENRE_FICTION&page_size=3", []);
    case 11:
      return request("GET", "/v1/shelves/1/books", []);
    case 12:
      return request(
        "POST",
        `/v1/files/a/${name}`,
        [["Content-Type", "text/plain"]],
        rng.bytes(rng.size(200)),
      );
    case 13:
      return request("SEARCH", "/v1/reports/1", [jsonType], json({ format: "csv" }));
    case 14:
      return request("GET", `/v1/echo?${echoQuery(rng)}`, []);
    default:
      return request(
        rng.pick(["GET", "HEAD", "OPTIONS"]),
        rng.pick(["/nope", "/", "/v1/echo"]),
        [],
      );
  }
}

const methods = [
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "HEAD",
  "TRACE",
  "CONNECT",
  "get",
  "G ET",
  "",
];
const oddQueries = [
  "i32=abc",
  "i64=99999999999999999999",
  "u32=-1",
  "f=1x",
  "b=maybe",
  "by=%%%",
  "genre=NOPE",
  "ts=yesterday",
  "dur=1x",
  "mask=%00",
  "nested.deep.x.y=1",
  "%ZZ=1",
  "labels%5Bk%5D=v",
  "s=%C3%28",
  "page_size=1e3",
];
const contentTypes = [
  "application/json; charset=latin1",
  "application/x-protobuf",
  "application/proto",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data; boundary=x",
  "",
  "application/vnd.google.protobuf",
  "text/json",
  "application/foo+json",
  ";;;",
];
const accepts = [
  "application/x-protobuf",
  "application/proto",
  "text/html",
  "*/*",
  "application/json;q=abc",
  "application/json;q=0",
  ",,,",
  "application/yaml",
];
const oddHeaders: [string, string][] = [
  ["Bad Name", "x"],
  ["X-Fold", "a\r\n b"],
  ["X-Nul", "a\u0000b"],
  ["Host", "other"],
  ["Expect", "100-continue"],
  ["Connection", "Upgrade, HTTP2-Settings"],
  ["Upgrade", "h2c"],
  ["Upgrade", "websocket"],
  ["Connection", "close"],
  ["", "empty"],
  ["Transfer-Encoding", "identity"],
];

/** Applies one structural mutation; returns its label. */
function mutatePart(rng: Prng, req: Http1Request): string {
  switch (rng.int(0, 11)) {
    case 0:
      req.method = rng.chance(0.1) ? "X".repeat(300) : rng.pick(methods);
      return `method ${JSON.stringify(req.method.slice(0, 20))}`;
    case 1: {
      const [path = "", query] = req.target.split("?", 2);
      req.target = mutatePath(rng, path) + (query === undefined ? "" : `?${query}`);
      return "path edited";
    }
    case 2: {
      const add = rng.pick([...oddQueries, "a".repeat(9000), "x=1&".repeat(3000)]);
      req.target += (req.target.includes("?") ? "&" : "?") + add;
      return `query +${add.slice(0, 30)}`;
    }
    case 3: {
      const type = rng.pick(contentTypes);
      setHeader(req, "Content-Type", type);
      if (!type.includes("proto")) return `content-type ${JSON.stringify(type)}`;
      req.body = mutateProto(rng, req.body);
      fixLength(req);
      return `content-type ${JSON.stringify(type)}, proto body of ${req.body.byteLength} bytes`;
    }
    case 4: {
      const accept = rng.pick(accepts);
      setHeader(req, "Accept", accept);
      return `accept ${JSON.stringify(accept)}`;
    }
    case 5: {
      const codec = rng.pick(["gzip", "deflate", "br", "x"]);
      setHeader(req, "Content-Encoding", codec);
      if (codec !== "gzip" || rng.chance(0.5)) return `content-encoding ${codec}`;
      req.body = rng.chance(0.1) ? bomb("gzip") : gzipSync(req.body);
      fixLength(req);
      return "gzip body";
    }
    case 6:
      return framing(rng, req);
    case 7: {
      if (rng.chance(0.05)) {
        for (let i = 0; i < 3000; i++) req.headers.push([`x-h${i}`, "v"]);
        return "3000 headers";
      }
      if (rng.chance(0.1)) {
        req.headers.push(["X-Big", "x".repeat(rng.int(8000, 20_000))]);
        return "big header";
      }
      const header = rng.pick(oddHeaders);
      req.headers.push(header);
      return `header ${JSON.stringify(header)}`;
    }
    case 8:
      req.version = rng.pick([
        "HTTP/1.0",
        "HTTP/2.0",
        "HTTP/1.2",
        "HTTP/0.9",
        "HTTP/1.1 x",
        "http/1.1",
        "",
      ]);
      return `version ${JSON.stringify(req.version)}`;
    case 9:
      req.body = req.body[0] === 0x7b ? mutateJson(rng, req.body) : mutateBytes(rng, req.body);
      fixLength(req);
      return "body edited";
    case 10:
      if (!rng.chance(0.05)) return "no-op";
      req.body = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
      fixLength(req);
      return "body over 4 MiB";
    default:
      req.headers = req.headers.filter(() => rng.chance(0.5));
      return "headers dropped";
  }
}

/** The HTTP port family. */
export const httpFamily: Family = {
  name: "http",
  async run(input) {
    const { rng } = input;
    if (rng.chance(0.005)) {
      // Rare, and alone so that it reaches the decoder: a well-formed protobuf body that is a
      // flood of unknown fields.
      const body = unknownFieldFlood(rng);
      const type: [string, string] = ["Content-Type", "application/x-protobuf"];
      const req = request("POST", "/v1/books/1:cancel", [type], body);
      const labels = [`POST /v1/books/1:cancel, ${body.byteLength} bytes of unknown fields`];
      const bytes = serializeRequest(req);
      return runHttp1Case({ input, port: input.httpPort, bytes, labels, headRequest: false });
    }
    const req = template(rng);
    const labels = [`${req.method} ${req.target.slice(0, 60)}`];
    for (let n = rng.int(1, 3); n > 0; n--) labels.push(mutatePart(rng, req));
    let bytes = serializeRequest(req);
    if (rng.chance(0.15)) {
      bytes = mutateBytes(rng, bytes);
      labels.push("bytes edited");
    }
    let requests = 1;
    if (rng.chance(0.1)) {
      bytes = Buffer.concat([bytes, serializeRequest(template(rng))]);
      requests = 2;
      labels.push("pipelined");
    }
    const headRequest = req.method === "HEAD";
    return runHttp1Case({ input, port: input.httpPort, bytes, labels, headRequest, requests });
  },
};
