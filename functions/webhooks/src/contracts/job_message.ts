/* Generated from contracts/schemas/job_message.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

export interface JobMessage {
  /**
   * Attempts already made when the message was sent.
   */
  attempt: number;
  /**
   * Follows the job across hops.
   */
  correlation_id?: string;
  job_id: string;
  task: string;
  /**
   * Schema version.
   */
  v?: 1;
}
