/**
 * Housekeeping the local engine does itself that S3 lifecycle rules do in AWS: a sweep run at start
 * and every hour, its failure logged (without paths or UIDs) and tried again at the next.
 */
const SWEEP_INTERVAL_MS = 3600_000;

export function startHourlySweep(task: string, sweep: () => Promise<unknown>): { stop(): void } {
  const run = () =>
    void sweep().catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', task, message: error instanceof Error ? error.message : String(error) }));
    });
  run();
  const timer = setInterval(run, SWEEP_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
