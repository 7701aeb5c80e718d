/* Generated from contracts/schemas/user_event.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

export interface UserEvent {
  at: string;
  type: "user.deactivated";
  /**
   * The user's id, as a string.
   */
  user: string;
  v?: 1;
}
