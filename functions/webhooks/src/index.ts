/**
 * The webhooks service's Lambda entry points, bundled by esbuild into dist/index.mjs:
 * `api` (API Gateway HTTP API, payload 2.0) and `deliver` (SQS, ReportBatchItemFailures).
 */
export { api, deliver } from "./handlers.js";
