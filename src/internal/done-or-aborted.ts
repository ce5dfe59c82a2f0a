/**
 * Waits for `done` to settle, or for `signal` to abort, whichever comes first; never rejects.
 * A graceful stop that a caller's deadline may cut short: what is still running carries on
 * unwatched, and the listener on the signal is removed either way.
 */
export async function doneOrAborted(
  done: Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (signal === undefined) {
    await done.then(noop, noop);
    return;
  }
  if (signal.aborted) return;
  let onAbort = noop;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([done.then(noop, noop), aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function noop(): void {
  // Settled is all that matters here.
}
