// "Throughput against payload size": the helloworld call with a reply of 100 B, 10 KiB and
// 1 MiB, kratos-ts against its peer on each protocol (gRPC: grpc-js; HTTP JSON: fastify). The
// reply carries the payload (`--payload=<bytes>`, bench/servers/common.ts), the request stays
// `name: "kratos"`: so both servers of a pair encode and write the same message, and the load
// tools (wrk, h2load) send the same small request as in bench/run.ts.
import type { TopLevelSpec } from "vega-lite";
import { fromBinary } from "@bufbuild/protobuf";
import { HelloReplySchema } from "../../api/helloworld/v1/greeter_pb.js";
import { grpcMessages, helloCalls } from "../calls.js";
import type { Call } from "../calls.js";
import type { Row } from "../chart.js";
import { median } from "../harness.js";
import type { Harness, PairOptions, Scenario } from "../harness.js";

/** The reply payload sizes measured. */
export const payloadSizes = [
  { bytes: 100, label: "100 B" },
  { bytes: 10 * 1024, label: "10 KiB" },
  { bytes: 1024 * 1024, label: "1 MiB" },
];

/** One pair at one size: medians over its rounds. */
export interface PayloadResult {
  protocol: "gRPC" | "HTTP JSON";
  size: string;
  bytes: number;
  subject: string;
  peer: string;
  subjectRate: number;
  peerRate: number;
  ratios: number[];
}

/**
 * The helloworld call whose reply message must be `bytes` long. Replies of 1 MiB are loaded
 * with 8 connections and, on HTTP/2, one stream each: with bench/run.ts's 64 connections (wrk)
 * or 8 x 32 streams (h2load), a reply waits behind so many others that wrk times out (2 s) and
 * no h2load stream finishes within a slice.
 */
function payloadCall(group: "http" | "grpc", bytes: number): Call {
  const base = helloCalls[group];
  return {
    ...base,
    ...(bytes >= 1024 * 1024 ? { concurrency: { connections: 8, streams: 1 } } : {}),
    verify(reply) {
      const message =
        group === "grpc"
          ? fromBinary(HelloReplySchema, grpcMessages(reply)[0] ?? new Uint8Array()).message
          : (JSON.parse(reply.toString()) as { message?: string }).message;
      return message?.length === bytes ? undefined : `reply of ${message?.length} bytes`;
    },
  };
}

function pairsAt(
  bytes: number,
): { protocol: PayloadResult["protocol"]; pair: [Scenario, Scenario] }[] {
  const args = [`--payload=${bytes}`];
  const grpc = payloadCall("grpc", bytes);
  const http = payloadCall("http", bytes);
  return [
    {
      protocol: "gRPC",
      pair: [
        { name: "kratos-ts gRPC", server: "kratos-grpc", group: "grpc", args, call: grpc },
        { name: "@grpc/grpc-js", server: "grpc-js", group: "grpc", args, call: grpc },
      ],
    },
    {
      protocol: "HTTP JSON",
      pair: [
        { name: "kratos-ts HTTP", server: "kratos-http", group: "http", args, call: http },
        { name: "fastify", server: "fastify", group: "http", args, call: http },
      ],
    },
  ];
}

/** Measures every protocol at every size, in interleaved pairs. */
export async function measurePayload(
  harness: Harness,
  options: PairOptions,
  log: (line: string) => void,
): Promise<PayloadResult[]> {
  const out: PayloadResult[] = [];
  for (const size of payloadSizes) {
    for (const { protocol, pair } of pairsAt(size.bytes)) {
      const [subject, peer] = pair;
      const rounds = await harness.measurePair({ subject, peer }, options, (r, start, round) => {
        log(
          `payload ${size.label} ${protocol}, start ${start} round ${round}: ` +
            `${r.subject.toFixed(0)} / ${r.peer.toFixed(0)} req/s = ${r.ratio.toFixed(2)}x`,
        );
      });
      out.push({
        protocol,
        size: size.label,
        bytes: size.bytes,
        subject: subject.name,
        peer: peer.name,
        subjectRate: median(rounds.map((r) => r.subject)),
        peerRate: median(rounds.map((r) => r.peer)),
        ratios: rounds.map((r) => r.ratio),
      });
    }
  }
  return out;
}

const mib = (rate: number, bytes: number): string => ((rate * bytes) / 2 ** 20).toFixed(0);

/** The results as markdown table lines. */
export function payloadTable(results: PayloadResult[]): string[] {
  const lines = [
    "| protocol | reply payload | kratos-ts req/s | peer | peer req/s | kratos-ts MiB/s | median ratio |",
    "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const range = `${Math.min(...r.ratios).toFixed(2)}-${Math.max(...r.ratios).toFixed(2)}`;
    lines.push(
      `| ${r.protocol} | ${r.size} | ${r.subjectRate.toFixed(0)} | ${r.peer} | ` +
        `${r.peerRate.toFixed(0)} | ${mib(r.subjectRate, r.bytes)} | ` +
        `${median(r.ratios).toFixed(2)}x (${range}) |`,
    );
  }
  return lines;
}

/** Requests per second against payload size, as a vega-lite chart. */
export function payloadChart(results: PayloadResult[]): TopLevelSpec {
  // One colour for kratos-ts and one for its peer in both panels; the panel names the peer.
  const values: Row[] = results.flatMap((r) => {
    const panel = `${r.protocol}: ${r.subject} vs ${r.peer}`;
    return [
      { panel, server: "kratos-ts", bytes: r.bytes, rate: r.subjectRate },
      { panel, server: "peer", bytes: r.bytes, rate: r.peerRate },
    ];
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Throughput against reply payload size (server on one core)",
    data: { values },
    facet: { column: { field: "panel", type: "nominal", title: null } },
    spec: {
      width: 260,
      height: 220,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "bytes",
          type: "quantitative",
          scale: { type: "log" },
          title: "reply payload",
          axis: {
            values: payloadSizes.map((s) => s.bytes),
            labelExpr:
              "datum.value >= 1048576 ? '1 MiB' : datum.value >= 1024 ? '10 KiB' : '100 B'",
          },
        },
        y: { field: "rate", type: "quantitative", scale: { type: "log" }, title: "requests/s" },
        color: {
          field: "server",
          type: "nominal",
          title: null,
          scale: { domain: ["kratos-ts", "peer"], range: ["#f58518", "#4c78a8"] },
        },
      },
    },
  };
}
