// `kratos-ts run [dir] [-- args]`: build the project and run one of its cmd/* services.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { constants } from "node:os";
import { createInterface } from "node:readline/promises";
import { serviceNodeFlags } from "../../../src/internal/node-flags.js";
import { parseCommand } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Output } from "../output.js";
import { projectRoot } from "../project.js";
import { projectNode } from "../project-node.js";

export const runHelp = `Usage: kratos-ts run [service] [options] [-- service args]

Builds the project with tsc and runs its compiled dist/cmd/<service>/main.js (not the bundle
npm start runs: a change is served as soon as tsc has written it) with -conf ./configs (unless
the service args give -conf) and the Node flags npm start uses (${serviceNodeFlags.join(" ")}),
on the project's own Node (node_modules/.bin/node). With one service under cmd/ it needs no name; with several it
asks, or takes the name. SIGINT and SIGTERM are passed on to the service, which stops
gracefully; run exits with the service's exit code.

Options:
  -w, --watch  rebuild and restart when sources change
  -h, --help   print this help
`;

const spec = {
  name: "run",
  options: { watch: { type: "boolean", short: "w" } },
  positionals: [0, 1],
} as const;

/** The services of a project: the folders of cmd/ with a main.ts. */
export function services(root: string): string[] {
  const cmd = join(root, "cmd");
  if (!existsSync(cmd)) return [];
  return readdirSync(cmd, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(cmd, e.name, "main.ts")))
    .map((e) => e.name)
    .sort();
}

/** Runs `kratos-ts run`; resolves with the service's exit code. */
export async function runRun(args: readonly string[], out: Output): Promise<number> {
  const { values, positionals, rest, help } = parseCommand(spec, args);
  if (help) {
    out.stdout(runHelp);
    return 0;
  }
  const root = projectRoot();
  const found = services(root);
  if (found.length === 0) throw new CliError(`no service in ${join(root, "cmd")}`);
  const service = await pick(found, positionals[0]);
  const serviceArgs = rest.some((a) => /^--?conf(=|$)/.test(a))
    ? rest
    : ["-conf", "./configs", ...rest];
  const main = join("dist", "cmd", service, "main.js");
  const node = projectNode(root);
  const env = {
    ...process.env,
    PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
  };
  const tsc = join(root, "node_modules", "typescript-7", "bin", "tsc");
  if (values.watch !== true) {
    const built = spawnSync(node, [tsc, "-p", "tsconfig.json"], {
      cwd: root,
      stdio: "inherit",
      env,
    });
    if (built.status !== 0) throw new CliError("the build failed (see above)");
    return wait(
      spawn(node, [...serviceNodeFlags, main, ...serviceArgs], {
        cwd: root,
        stdio: "inherit",
        env,
      }),
    );
  }
  // Watch: one build so dist/ exists when the service starts, then the compiler rebuilds dist/
  // on change and node restarts the service on a new dist/ (in this order: two compilers
  // writing dist/ at once would race).
  const first = spawnSync(node, [tsc, "-p", "tsconfig.json"], {
    cwd: root,
    stdio: "ignore",
    env,
  });
  if (first.status !== 0) out.stderr("the first build failed; waiting for a fix");
  const compiler = spawn(node, [tsc, "-p", "tsconfig.json", "--watch", "--preserveWatchOutput"], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  const watched = spawn(node, [...serviceNodeFlags, "--watch-path=dist", main, ...serviceArgs], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  try {
    return await wait(watched);
  } finally {
    compiler.kill();
  }
}

async function pick(found: string[], wanted: string | undefined): Promise<string> {
  if (wanted !== undefined) {
    const name = wanted.replace(/^cmd\//, "").replace(/\/$/, "");
    if (!found.includes(name)) {
      throw new CliError(`no service "${wanted}" in cmd/ (services: ${found.join(", ")})`);
    }
    return name;
  }
  const [only] = found;
  if (found.length === 1 && only !== undefined) return only;
  if (!process.stdin.isTTY) {
    throw new CliError(`several services (${found.join(", ")}): name one, kratos-ts run <service>`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`which service? (${found.join(", ")}) `)).trim();
    if (!found.includes(answer)) throw new CliError(`no service "${answer}"`);
    return answer;
  } finally {
    rl.close();
  }
}

function wait(child: ChildProcess): Promise<number> {
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt).on("SIGTERM", onTerm);
  const orphaned = watchLauncher(onTerm);
  return new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      process.off("SIGINT", onInt).off("SIGTERM", onTerm);
      clearInterval(orphaned);
      // A child killed by a signal exits as a shell reports it: 128 + the signal's number.
      resolve(code ?? (signal === null ? 1 : 128 + constants.signals[signal]));
    });
  });
}

/**
 * Under npm (`npx kratos-ts run`, or an npm script), this process is a child of the `sh -c`
 * npm starts, and npm passes SIGTERM and SIGINT on to that shell only: the shell dies and this
 * process never hears of it. A new parent means the launcher is gone: stop the service as for
 * SIGTERM. Outside npm a new parent means nothing (nohup, a closed terminal), so nothing is
 * watched.
 */
function watchLauncher(stop: () => void): NodeJS.Timeout | undefined {
  if (process.env.npm_lifecycle_event === undefined) return undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    stop();
  }, launcherPollMs);
  timer.unref();
  return timer;
}

// How often the launcher is checked: a stop request is seen this late at worst.
const launcherPollMs = 200;
