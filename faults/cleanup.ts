/**
 * What the run must undo, whatever ends it (success, a failed phase, an exception, Ctrl-C):
 * each resource registers its undo as soon as it exists, and they run newest first.
 */
const steps: Array<{ what: string; undo: () => Promise<void> | void }> = [];
let done: Promise<void> = Promise.resolve();
let interrupted = false;

export function onCleanup(what: string, undo: () => Promise<void> | void): void {
  steps.push({ what, undo });
}

/**
 * Runs every undo registered so far, newest first, each once; one failing does not stop the
 * others. What is registered later (the fuzz, after the stack is gone) takes another call.
 */
export function cleanUp(): Promise<void> {
  done = done.then(async () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        await step.undo();
      } catch (error) {
        process.stderr.write(`cleanup: ${step.what}: ${(error as Error).message}\n`);
      }
    }
  });
  return done;
}

/** True once Ctrl-C, SIGTERM or an uncaught error arrived: the run starts nothing more. */
export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * Ctrl-C and SIGTERM clean up, then exit 130; an error nothing caught (a peer's socket error, a
 * bug) is printed, cleaned up after, and exits 1, so no redis-server or database outlives it.
 */
export function cleanUpOnExit(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
    // and a second signal with no listener would end it before the database is dropped.
    process.on(signal, () => {
      if (!interrupted) process.stderr.write(`\n${signal}: cleaning up\n`);
      interrupted = true;
      void cleanUp().finally(() => process.exit(130));
    });
  }
  const crash = (error: unknown) => {
    process.stderr.write(`\nuncaught: ${(error as Error).stack ?? String(error)}\ncleaning up\n`);
    interrupted = true;
    void cleanUp().finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
