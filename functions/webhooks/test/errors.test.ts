import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, errorBody, errorResponse } from "../src/errors.js";

test("an ApiError answers with its status, code and message in the Python services' shape", () => {
  const response = errorResponse(new ApiError(404, "endpoint_not_found", "No endpoint of yours has that id."));
  assert.equal(response.statusCode, 404);
  assert.equal(response.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(response.body), {
    error: { code: "endpoint_not_found", message: "No endpoint of yours has that id." },
  });
});

test("fields and extra headers are passed on", () => {
  const error = new ApiError(400, "invalid_request", "The request is not valid.", {
    fields: { url: ["must be https"] },
    headers: { "www-authenticate": "Bearer" },
  });
  const response = errorResponse(error);
  assert.equal(response.headers["www-authenticate"], "Bearer");
  assert.deepEqual(JSON.parse(response.body), errorBody("invalid_request", "The request is not valid.", { url: ["must be https"] }));
});

test("anything else is a bare 500 that tells nothing", () => {
  const response = errorResponse(new Error("secret detail: /var/task/index.mjs:1"));
  assert.equal(response.statusCode, 500);
  assert.deepEqual(JSON.parse(response.body), {
    error: { code: "internal_error", message: "Something went wrong on our side." },
  });
  assert.ok(!response.body.includes("secret detail"));
});
