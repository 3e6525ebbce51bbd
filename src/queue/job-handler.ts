import type { JobRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';

/** What a handler can do with the job it was given; each is one transaction with `effects`. */
export interface JobControl {
  readonly job: JobRecord;
  /**
   * Aborted when the job ran past its timeout, its lease was lost, or the node is shutting down.
   * Pass it to anything slow (HTTP calls); once aborted, the job's other controls throw.
   */
  readonly signal: AbortSignal;
  /**
   * Calls `listener` with the reason when the job is aborted (at once if it already is); returns
   * what removes it. The same as a listener on `signal`, for a fraction of its cost (an AbortSignal
   * listener costs microseconds: worth avoiding on a path every job takes).
   */
  onAbort(listener: (reason: unknown) => void): () => void;
  /** Throws the reason once the job was aborted: `signal.throwIfAborted()`, without making the signal. */
  throwIfAborted(): void;
  /**
   * Records the job's results and deletes the job, atomically. Completions are batched: the
   * results of many jobs (and the jobs they enqueue) commit together, a few milliseconds later.
   */
  complete(effects?: (tx: Repos) => Promise<void>): Promise<void>;
  /**
   * Who holds this job's lease, and how long a renewal keeps it. Before a step that must not happen
   * twice (a carrier submit), renew it inside the transaction that commits first
   * (`jobs.extendLeases`, one statement for the jobs started together) and treat a job not renewed
   * as lost (LeaseLostError).
   */
  readonly lease: { readonly workerId: string; readonly ms: number };
  /** Records partial results and runs the job again at `runAt` (its own schedule), atomically. */
  retryAt(runAt: number, error: string, effects?: (tx: Repos) => Promise<void>): Promise<void>;
  /**
   * Puts the job back in the queue until `runAt` without counting a retry or recording an error: it
   * waits its turn (a throughput limit), it did not fail.
   */
  waitUntil(runAt: number): Promise<void>;
  /**
   * Gives the job up with `error`, atomically with `effects` (which must end its work visibly):
   * the job is kept, with the error, for the operator, and never runs again.
   */
  fail(error: string, effects?: (tx: Repos) => Promise<void>): Promise<void>;
}

export interface JobHandler {
  readonly queue: string;
  run(control: JobControl): Promise<void>;
  /**
   * Ends the job's work visibly, inside `tx`, when the pool gives it up because it kept crashing
   * (recipients final with an error and their webhooks; a webhook event `failed`).
   */
  giveUp?(job: JobRecord, tx: Repos, error: string): Promise<void>;
}
