/* Generated from contracts/schemas/job_event.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

export interface JobEvent {
  at: string;
  correlation_id?: string;
  error?: JobError | null;
  job_id: string;
  note?: string;
  /**
   * The owning user's id: the user model's primary key as a string (an integer in decimal, a UUID).
   */
  owner: string;
  progress: number;
  result?: unknown;
  /**
   * Set instead of result when the result is too large to push.
   */
  result_url?: string | null;
  seq: number;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  task: string;
  type: "job.queued" | "job.running" | "job.progress" | "job.succeeded" | "job.failed" | "job.cancelled";
  v?: 1;
}
export interface JobError {
  code: string;
  message: string;
}
