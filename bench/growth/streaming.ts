// "Server-streaming messages per second": the echo fixture's Count (test/fixtures/http), one
// request for `messages` replies of one int32 each, kratos-ts against grpc-js, in interleaved
// pairs loaded by h2load. h2load counts finished calls; messages per second are calls per
// second times `messages`. 4 connections x 4 streams: with bench/run.ts's 8 x 32, the 256
// calls in flight finished in waves of 256,000 messages, a wave or two per slice, and the
// rates came out in steps of 16,000 messages/s (one run read 0.94x and 2.33x).
import type { TopLevelSpec } from "vega-lite";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CountRequestSchema,
  CountResponseSchema,
} from "../../test/fixtures/http/gen/echo/v1/echo_pb.js";
import { grpcFrame, grpcMessages } from "../calls.js";
import type { Call } from "../calls.js";
import type { Row } from "../chart.js";
import { median } from "../harness.js";
import type { Harness, PairOptions, Scenario } from "../harness.js";

/** Server-streaming messages per second of kratos-ts and grpc-js, per round. */
export interface StreamingResult {
  messages: number;
  subject: string;
  peer: string;
  /** Messages per second, one per round. */
  subjectRates: number[];
  peerRates: number[];
  ratios: number[];
}

function countCall(messages: number): Call {
  return {
    path: "/echo.v1.EchoService/Count",
    concurrency: { connections: 4, streams: 4 },
    body: grpcFrame(toBinary(CountRequestSchema, create(CountRequestSchema, { upTo: messages }))),
    verify(reply) {
      const frames = grpcMessages(reply);
      const last = fromBinary(CountResponseSchema, frames[frames.length - 1] ?? new Uint8Array());
      return frames.length === messages && last.number === messages
        ? undefined
        : `${frames.length} messages, the last ${last.number}`;
    },
  };
}

/** Measures kratos-ts against grpc-js on a server-streaming call, in interleaved pairs. */
export async function measureStreaming(
  harness: Harness,
  options: PairOptions & { messages: number },
  log: (line: string) => void,
): Promise<StreamingResult> {
  const call = countCall(options.messages);
  const subject: Scenario = {
    name: "kratos-ts gRPC",
    server: "kratos-grpc-stream",
    group: "grpc",
    call,
  };
  const peer: Scenario = { name: "@grpc/grpc-js", server: "grpc-js-stream", group: "grpc", call };
  const rounds = await harness.measurePair({ subject, peer }, options, (r, start, round) => {
    log(
      `streaming ${options.messages} messages/call, start ${start} round ${round}: ` +
        `${(r.subject * options.messages).toFixed(0)} / ${(r.peer * options.messages).toFixed(0)} ` +
        `messages/s = ${r.ratio.toFixed(2)}x`,
    );
  });
  return {
    messages: options.messages,
    subject: subject.name,
    peer: peer.name,
    subjectRates: rounds.map((r) => r.subject * options.messages),
    peerRates: rounds.map((r) => r.peer * options.messages),
    ratios: rounds.map((r) => r.ratio),
  };
}

/** The result as markdown table lines. */
export function streamingTable(r: StreamingResult): string[] {
  const range = `${Math.min(...r.ratios).toFixed(2)}-${Math.max(...r.ratios).toFixed(2)}`;
  return [
    `| server-streaming, ${r.messages} messages per call | kratos-ts messages/s | grpc-js messages/s | median ratio |`,
    "| --- | ---: | ---: | ---: |",
    `| ${r.subject} / ${r.peer} | ${median(r.subjectRates).toFixed(0)} | ` +
      `${median(r.peerRates).toFixed(0)} | ${median(r.ratios).toFixed(2)}x (${range}) |`,
  ];
}

/** Messages per second, as a vega-lite bar chart. */
export function streamingChart(r: StreamingResult): TopLevelSpec {
  const values: Row[] = [
    ...r.subjectRates.map((rate, i) => ({ server: r.subject, round: i + 1, rate })),
    ...r.peerRates.map((rate, i) => ({ server: r.peer, round: i + 1, rate })),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Server streaming, ${r.messages} messages per call (median ${median(r.ratios).toFixed(2)}x)`,
    data: { values },
    width: 360,
    height: 140,
    layer: [
      {
        mark: "bar",
        encoding: {
          y: { field: "server", type: "nominal", title: null },
          x: { aggregate: "median", field: "rate", type: "quantitative", title: "messages/s" },
          color: { field: "server", type: "nominal", legend: null },
        },
      },
      {
        // Each round as a tick: the spread behind the median.
        mark: { type: "tick", color: "black", thickness: 1 },
        encoding: {
          y: { field: "server", type: "nominal" },
          x: { field: "rate", type: "quantitative" },
        },
      },
    ],
  };
}
