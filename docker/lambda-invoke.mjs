// Runs a Lambda handler once outside AWS Lambda: the Kubernetes CronJob / Job entry point and the
// local stack's scheduler use it with the same image (ARCHITECTURE.md §4.8).
// The event is the JSON in TRADAI_LAMBDA_EVENT (default {}); exit code 0 on success, 1 on error.
import { randomUUID } from "node:crypto";

const handlerFile = process.env.TRADAI_LAMBDA_HANDLER_FILE ?? "/var/task/handler.mjs";
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "tradai-lambda";
let event;
try {
  event = JSON.parse(process.env.TRADAI_LAMBDA_EVENT ?? "{}");
} catch (error) {
  console.error(`TRADAI_LAMBDA_EVENT: expected JSON, got ${JSON.stringify(process.env.TRADAI_LAMBDA_EVENT)}`);
  console.error(error);
  process.exit(1);
}
const startedAt = Date.now();
const timeoutMs = Number(process.env.TRADAI_LAMBDA_TIMEOUT_SECONDS ?? "900") * 1000;
const context = {
  functionName,
  functionVersion: "$LATEST",
  awsRequestId: randomUUID(),
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "256",
  getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - startedAt)),
  callbackWaitsForEmptyEventLoop: false,
};
try {
  const module = await import(handlerFile);
  const result = await module.handler(event, context);
  console.log(JSON.stringify({ level: "info", functionName, msg: "handler finished", result }));
  process.exit(0);
} catch (error) {
  console.error(
    JSON.stringify({ level: "error", functionName, msg: "handler failed", error: String(error) }),
  );
  process.exit(1);
}
