// One Node function container: what Lambda's Node.js runtime does, for the local stack; the Node
// twin of runtime.py, speaking the same protocol, so infra/local/functions.py runs both alike.
//
// Run as `node runtime.mjs <code-root> <path/module.export> <function-name> <timeout> <memory>`.
// The handler is found as Lambda finds it: `<code-root>/<path/module>` + .mjs, .js or .cjs, then the
// named export, called as `await handler(event, context)`.
//
// Protocol: one JSON request per line on stdin ({"event", "request_id"}), one JSON answer per line
// on the original stdout ({"ok", "result"} or {"ok": false, "error"}). The function's own output
// (console.log, which Lambda sends to CloudWatch) goes to stderr, the stack's log stream.
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [codeRoot, handlerPath, functionName, timeout, memory] = process.argv.slice(2);

// The protocol owns stdout: everything the function prints goes to stderr, as Lambda's logs.
const protocolWrite = process.stdout.write.bind(process.stdout);
const toStderr = (...args) => {
  process.stderr.write(args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" ") + "\n");
};
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);

function answer(message) {
  protocolWrite(JSON.stringify(message) + "\n");
}

function context(requestId) {
  const deadline = Date.now() + Number(timeout) * 1000;
  return {
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: String(memory),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.replaceAll("-", "")}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function loadHandler() {
  const dot = handlerPath.lastIndexOf(".");
  const modulePath = handlerPath.slice(0, dot);
  const exportName = handlerPath.slice(dot + 1);
  const file = [".mjs", ".js", ".cjs"].map((suffix) => join(codeRoot, modulePath + suffix)).find(existsSync);
  if (file === undefined) {
    throw new Error(`Cannot find module '${modulePath}' (.mjs, .js or .cjs) under ${codeRoot}`);
  }
  const module = await import(pathToFileURL(file).href);
  const handler = module[exportName];
  if (typeof handler !== "function") {
    throw new Error(`${handlerPath} is undefined or not exported`);
  }
  return handler;
}

let handler;
try {
  // The init phase: the module's top level, once per container.
  process.chdir(codeRoot);
  handler = await loadHandler();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  answer({ ok: false, init_error: `${error?.name ?? "Error"}: ${error?.message ?? String(error)}` });
  process.exit(1);
}
answer({ ok: true, ready: true });

// One invocation at a time, as in a Lambda container: the next line waits for this answer.
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const request = JSON.parse(line);
  try {
    const result = await handler(request.event, context(request.request_id));
    answer({ ok: true, result: result ?? null });
  } catch (error) {
    // Lambda reports an unhandled error (or rejected promise) as the invocation's result.
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    answer({
      ok: false,
      error: { errorType: error?.name ?? "Error", errorMessage: error?.message ?? String(error) },
    });
  }
}
