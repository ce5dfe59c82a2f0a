// "RSS with 10,000 open connections": each server runs alone on core 0, is warmed up, and left
// idle for a second; its RSS is read; then bench/hold-connections.ts (its own process, on core
// 1) opens the connections, makes one call on each and holds them idle, and the server's RSS is
// read again. The difference over the connections still open is what one idle connection costs.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TopLevelSpec } from "vega-lite";
import { helloCalls } from "../calls.js";
import type { Row } from "../chart.js";
import { rssMiB, stopServer } from "../harness.js";
import type { Harness, Scenario } from "../harness.js";

/** One server's RSS before and after holding the connections open. */
export interface ConnectionsResult {
  server: string;
  protocol: "HTTP/1.1" | "HTTP/2 (gRPC)";
  /** RSS in MiB after warm-up, idle, with no connection. */
  before: number;
  /** RSS in MiB with the connections open. */
  after: number;
  /** Connections still open when `after` was read. */
  open: number;
}

const holder = fileURLToPath(new URL("../hold-connections.js", import.meta.url));

/**
 * The HTTP/1.1 servers run with a 60 s keep-alive timeout: at their defaults node:http and
 * kratos-ts close a connection idle for 5 s, and opening 10,000 connections on a busy core took
 * longer than that (kratos-ts held 7,235 of them by the time the last was answered). The
 * layout has no setting for it, so it is measured on its gRPC port, whose HTTP/2 idle timeout
 * is 300 s.
 */
const keepAlive = ["--keep-alive-timeout=60000"];
/** The servers measured with 10,000 open connections, and the protocol each is held over. */
export const connectionServers: (Scenario & { protocol: ConnectionsResult["protocol"] })[] = [
  {
    name: "kratos-ts HTTP",
    server: "kratos-http",
    group: "http",
    args: keepAlive,
    protocol: "HTTP/1.1",
  },
  { name: "fastify", server: "fastify", group: "http", args: keepAlive, protocol: "HTTP/1.1" },
  {
    name: "node:http (raw)",
    server: "raw-http",
    group: "http",
    args: keepAlive,
    protocol: "HTTP/1.1",
  },
  { name: "kratos-ts gRPC", server: "kratos-grpc", group: "grpc", protocol: "HTTP/2 (gRPC)" },
  { name: "layout as shipped (gRPC)", server: "layout", group: "grpc", protocol: "HTTP/2 (gRPC)" },
  { name: "@grpc/grpc-js", server: "grpc-js", group: "grpc", protocol: "HTTP/2 (gRPC)" },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds `connections` to `port` until the returned close() is called. */
async function hold(
  s: Scenario,
  port: number,
  connections: number,
  work: string,
): Promise<{ held: string; count(): Promise<number>; close(): Promise<void> }> {
  const body = join(work, "hold-grpc.bin");
  if (s.group === "grpc") writeFileSync(body, helloCalls.grpc.body ?? new Uint8Array());
  const child = spawn(
    "taskset",
    [
      "-c",
      "1",
      process.execPath,
      holder,
      `--port=${port}`,
      `--connections=${connections}`,
      `--protocol=${s.group === "grpc" ? "h2" : "http1"}`,
      `--path=${(s.group === "grpc" ? helloCalls.grpc : helloCalls.http).path}`,
      ...(s.group === "grpc" ? [`--body=${body}`] : []),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done === true) throw new Error("hold-connections exited early");
    return line.value;
  };
  const held = await next();
  return {
    held,
    async count() {
      child.stdin.write("count\n");
      return Number(/OPEN (\d+)/.exec(await next())?.[1] ?? 0);
    },
    close: () => stopServer(child),
  };
}

/** Each server alone: RSS warmed up and idle, then with the connections held open. */
export async function measureConnections(
  harness: Harness,
  options: { connections: number; work: string; servers: typeof connectionServers },
  log: (line: string) => void,
): Promise<ConnectionsResult[]> {
  const out: ConnectionsResult[] = [];
  for (const s of options.servers) {
    const result = await harness.withServers([s], async ([server]) => {
      await sleep(1000);
      const pid = server?.child.pid ?? 0;
      const before = rssMiB(pid);
      const held = await hold(s, server?.port ?? 0, options.connections, options.work);
      try {
        // A second for the server to settle (its last replies written, timers armed).
        await sleep(1000);
        const after = rssMiB(pid);
        const open = await held.count();
        log(
          `connections: ${s.name} ${held.held}, ${open} open: RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MiB`,
        );
        return { server: s.name, protocol: s.protocol, before, after, open };
      } finally {
        // The server first: its side of each socket, not the client's ports, waits in TIME_WAIT.
        if (server !== undefined) await stopServer(server.child);
        await held.close();
      }
    });
    out.push(result);
  }
  return out;
}

/** The results as markdown table lines. */
export function connectionsTable(results: ConnectionsResult[], connections: number): string[] {
  const lines = [
    `| server (${connections} connections, one call each, then idle) | protocol | RSS idle | RSS with the connections | open when read | KiB per connection |`,
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results) {
    const per = r.open > 0 ? (((r.after - r.before) * 1024) / r.open).toFixed(1) : "-";
    lines.push(
      `| ${r.server} | ${r.protocol} | ${r.before.toFixed(0)} MiB | ${r.after.toFixed(0)} MiB | ${r.open} | ${per} |`,
    );
  }
  return lines;
}

/** The results as a vega-lite bar chart of RSS per connection. */
export function connectionsChart(results: ConnectionsResult[], connections: number): TopLevelSpec {
  const states = ["idle, no connection", `${connections} connections, idle`];
  const values: Row[] = results.flatMap((r) => [
    { server: r.server, protocol: r.protocol, state: states[0] ?? "", rss: r.before },
    { server: r.server, protocol: r.protocol, state: states[1] ?? "", rss: r.after },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `Server RSS with ${connections} open idle connections`,
    data: { values },
    width: 380,
    mark: "bar",
    encoding: {
      row: {
        field: "protocol",
        type: "nominal",
        title: null,
        header: { labelOrient: "top", labelAnchor: "start", labelFontWeight: "bold" },
      },
      y: { field: "server", type: "nominal", title: null, axis: { labelLimit: 240 } },
      yOffset: { field: "state", type: "nominal", sort: states },
      x: { field: "rss", type: "quantitative", title: "RSS (MiB)" },
      color: { field: "state", type: "nominal", title: null, sort: states },
    },
    resolve: { scale: { y: "independent" } },
    config: { legend: { orient: "bottom", labelLimit: 300 } },
  };
}
