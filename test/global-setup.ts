// Vitest global setup: starts the real integration peers (TRADAI_TEST_DEPS selects them, default
// all) and exports their URLs as TRADAI_TEST_*_URL env variables inherited by the test workers.
import { parseTestDependencies, startTestStack } from "./support/test-stack";

export default async function setup(): Promise<() => Promise<void>> {
  const dependencies = parseTestDependencies(process.env.TRADAI_TEST_DEPS);
  const started = Date.now();
  const stack = await startTestStack(dependencies);
  Object.assign(process.env, stack.env);
  if (dependencies.length > 0) {
    console.log(`[test-stack] ${dependencies.join(", ")} ready in ${Date.now() - started} ms`);
  }
  return () => stack.stop();
}
