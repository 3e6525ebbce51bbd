import type { JobRecord } from '../store/records.ts';
import type { Repos } from '../store/store.ts';

/** What a handler can do with the job it was given; each is one transaction with `effects`. */
export interface JobControl {
  readonly job: JobRecord;
  /** Records the job's results and deletes the job, atomically. */
  complete(effects?: (tx: Repos) => Promise<void>): Promise<void>;
  /**
   * Inside `tx`: renews this job's lease, or throws LeaseLostError when another worker has taken
   * it. Call it in the transaction before a step that must not happen twice (a carrier submit).
   */
  holdLease(tx: Repos): Promise<void>;
  /** Records partial results and runs the job again at `runAt`, atomically. */
  retryAt(runAt: number, error: string, effects?: (tx: Repos) => Promise<void>): Promise<void>;
}

export interface JobHandler {
  readonly queue: string;
  run(control: JobControl): Promise<void>;
}
