// Fails fast when a script runs on a Node older than the one the repo is built for.
// The repo pins Node 24 as the npm package `node`; npm puts node_modules/.bin first on PATH
// inside `npm run`, so this only trips when that binary is missing (for example after
// `npm install --ignore-scripts`, which skips the download of the real executable).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `kratos-ts: this repo runs on Node >= 24, but ${process.execPath} is Node ${process.versions.node}. ` +
      "Run the command through npm (npm test, npm start, npm run ...) after a plain `npm install` " +
      "(without --ignore-scripts), which installs Node 24 into node_modules/.bin.",
  );
  process.exit(1);
}
