// Checks config.ts against the spec's tables (spec §1, §2, §5; ARCHITECTURE.md §2), transcribed here
// by hand so that an edit to config.ts that departs from the spec fails a test.
import { DEFAULT_BACKTEST_QUEUE } from "@tradai/backtest";
import { describe, expect, it } from "vitest";
import {
  BULLMQ_BACKTEST_QUEUE,
  CONSOLIDATED_MODE,
  CONSOLIDATED_SERVICES,
  ECR_REPOS,
  ECR_SERVICE_MAPPING,
  LAMBDA_CONFIGS,
  LAMBDA_ECR_REPOS,
  LAMBDA_NAMES,
  LAMBDA_SCHEDULES,
  LOG_RETENTION_DAYS,
  SCHEDULED_LAMBDAS,
  SERVICES,
  SERVICE_NAMES,
  bucketName,
  deadLetterQueueName,
  parseEnvironment,
  queueName,
  resolveEnabledFunctions,
  resolveLambdaSchedules,
  scheduleToCron,
  validateScheduleExpression,
  serviceDiscoveryNamespace,
  serviceLogGroupName,
  serviceUrlEnvironment,
  tableName,
} from "./config";

describe("SERVICES (spec §1)", () => {
  // name, port, cpu, memory, health, spot, desired dev/staging/prod
  const table: [string, number | null, number, number, string | null, boolean, number, number, number][] = [
    ["backend-api", 8000, 512, 1024, "/api/v1/health", true, 1, 1, 2],
    ["data-collection", 8002, 256, 512, "/api/v1/health", true, 1, 1, 1],
    ["strategy-service", 8003, 512, 1024, "/api/v1/health", true, 1, 1, 1],
    ["mlflow", 5000, 512, 1024, "/mlflow/", true, 1, 1, 1],
    ["strategy-container", null, 1024, 2048, null, true, 0, 0, 0],
    ["live-trading", 8004, 1024, 2048, "/api/v1/health", false, 0, 0, 0],
    ["dry-run-trading", 8005, 1024, 2048, "/api/v1/health", true, 0, 0, 0],
  ];
  it.each(table)("%s matches the spec table", (name, port, cpu, memory, health, spot, dev, staging, prod) => {
    const service = SERVICES[name as keyof typeof SERVICES];
    expect(service).toMatchObject({ name, port, cpu, memory, healthPath: health, spot });
    expect(service.desiredCount).toEqual({ dev, staging, prod });
  });

  it("adds the backtest service on 8001 (ARCHITECTURE.md §2)", () => {
    expect(SERVICES.backtest).toMatchObject({ port: 8001, healthPath: "/api/v1/health", grpcHealth: true });
  });

  it("trading has 120 s of warm-up and one image with --mode", () => {
    expect(SERVICES["live-trading"].startPeriod).toBe(120);
    expect(SERVICES["dry-run-trading"].startPeriod).toBe(120);
    expect(SERVICES["live-trading"].args).toEqual(["--mode", "live"]);
    expect(SERVICES["dry-run-trading"].args).toEqual(["--mode", "dry-run"]);
    expect(SERVICES["live-trading"].ecrRepository).toBe(SERVICES["dry-run-trading"].ecrRepository);
  });

  it("has unique ports and entry points that exist where the component does", () => {
    const ports = SERVICE_NAMES.map((name) => SERVICES[name].port).filter((port) => port !== null);
    expect(new Set(ports).size).toBe(ports.length);
    for (const name of SERVICE_NAMES) {
      const { entrypoint, component } = SERVICES[name];
      if (entrypoint !== null) expect(entrypoint.startsWith(`${component}/src/`)).toBe(true);
    }
  });

  it("maps services to the spec's ECR repositories", () => {
    expect(ECR_SERVICE_MAPPING).toMatchObject({
      "backend-api": "tradai/backend",
      "data-collection": "tradai/data-collection",
      "strategy-service": "tradai/strategy-service",
      mlflow: "tradai/mlflow",
    });
  });

  it("builds inter-service URLs with the variables of the services' schemas", () => {
    // gateway/src/main.ts (backtestUrl, dataCollectionUrl, strategyUrl, liveTradingUrl, dryRunTradingUrl).
    expect(serviceUrlEnvironment("backend-api", (target) => target)).toEqual({
      GATEWAY_BACKTEST_URL: "http://backtest:8001",
      GATEWAY_DATA_COLLECTION_URL: "http://data-collection:8002",
      GATEWAY_STRATEGY_URL: "http://strategy-service:8003",
      GATEWAY_LIVE_TRADING_URL: "http://live-trading:8004",
      GATEWAY_DRY_RUN_TRADING_URL: "http://dry-run-trading:8005",
    });
    // The spec's backend variables (§3.1) for the backtest service, with Cloud Map names.
    expect(serviceUrlEnvironment("backtest", (target) => `${target}.tradai-dev.local`)).toEqual({
      BACKEND_DATA_COLLECTION_URL: "http://data-collection.tradai-dev.local:8002",
      BACKEND_STRATEGY_SERVICE_URL: "http://strategy-service.tradai-dev.local:8003",
      BACKEND_MLFLOW_TRACKING_URI: "http://mlflow.tradai-dev.local:5000/mlflow",
    });
    for (const name of SERVICE_NAMES) {
      for (const variable of Object.values(SERVICES[name].urlVariables)) {
        expect(variable.startsWith(SERVICES[name].envPrefix), variable).toBe(true);
      }
    }
  });
});

describe("LAMBDA_CONFIGS (spec §5)", () => {
  // name, memory, timeout, vpc, required, scheduled
  const table: [string, number, number, boolean, boolean, string | null][] = [
    ["backtest-consumer", 256, 30, true, true, null],
    ["sqs-consumer", 256, 30, true, false, null],
    ["orphan-scanner", 128, 60, true, true, "rate(5 minutes)"],
    ["health-check", 256, 60, true, true, "rate(2 minutes)"],
    ["trading-heartbeat-check", 256, 60, true, true, "rate(5 minutes)"],
    ["drift-monitor", 512, 120, true, true, "rate(12 hours)"],
    ["retraining-scheduler", 256, 60, true, true, "rate(6 hours)"],
    ["validate-strategy", 256, 30, true, false, null],
    ["data-collection-proxy", 256, 180, true, false, null],
    ["notify-completion", 128, 30, false, false, null],
    ["check-retraining-needed", 256, 30, true, false, null],
    ["compare-models", 512, 120, true, false, null],
    ["promote-model", 256, 60, true, false, null],
    ["model-rollback", 256, 60, true, false, null],
    ["cleanup-resources", 256, 60, true, false, null],
    ["update-status", 256, 30, true, false, null],
    ["pulumi-drift-detector", 512, 300, false, true, "rate(6 hours)"],
    ["update-nat-routes", 128, 120, false, true, null],
  ];

  it("has all 18 functions", () => {
    expect(LAMBDA_NAMES).toHaveLength(18);
    expect([...LAMBDA_NAMES].sort()).toEqual(table.map(([name]) => name).sort());
  });

  it.each(table)("%s matches the spec table", (name, memory, timeout, vpc, required, scheduled) => {
    const config = LAMBDA_CONFIGS[name as keyof typeof LAMBDA_CONFIGS];
    expect(config).toMatchObject({ name, memory, timeout, vpc, required });
    expect(config.trigger.type === "schedule").toBe(scheduled !== null);
    if (scheduled !== null)
      expect(LAMBDA_SCHEDULES[name as keyof typeof LAMBDA_SCHEDULES].expression).toBe(scheduled);
  });

  it("packages 17 functions as images and update-nat-routes inline", () => {
    expect(Object.keys(LAMBDA_ECR_REPOS)).toHaveLength(17);
    expect(LAMBDA_CONFIGS["update-nat-routes"].packaging).toBe("inline");
    expect(LAMBDA_ECR_REPOS["orphan-scanner"]).toBe("tradai/lambda-orphan-scanner");
    expect(ECR_REPOS).toContain("tradai/lambda-base");
    expect(new Set(ECR_REPOS).size).toBe(ECR_REPOS.length);
  });

  it("uses the spec's override keys", () => {
    expect(
      Object.fromEntries(SCHEDULED_LAMBDAS.map((name) => [name, LAMBDA_SCHEDULES[name].configKey])),
    ).toEqual({
      "orphan-scanner": "orphan_scanner_schedule",
      "health-check": "health_check_schedule",
      "trading-heartbeat-check": "trading_heartbeat_schedule",
      "drift-monitor": "drift_monitor_schedule",
      "retraining-scheduler": "retraining_scheduler_schedule",
      "pulumi-drift-detector": "pulumi_drift_schedule",
    });
  });

  it("resolves overrides by config key and validates them", () => {
    const overrides: Record<string, string> = { orphan_scanner_schedule: "rate(10 minutes)" };
    const resolved = resolveLambdaSchedules((key) => overrides[key]);
    expect(resolved["orphan-scanner"]).toBe("rate(10 minutes)");
    expect(resolved["health-check"]).toBe("rate(2 minutes)");
    expect(() =>
      resolveLambdaSchedules((key) => (key === "drift_monitor_schedule" ? "every hour" : undefined)),
    ).toThrow(
      'drift_monitor_schedule: expected "rate(N unit)" or "cron(m h dom mon dow year)", got "every hour"',
    );
  });
});

describe("scheduleToCron", () => {
  it.each([
    ["rate(5 minutes)", "*/5 * * * *"],
    ["rate(2 minutes)", "*/2 * * * *"],
    ["rate(1 minute)", "* * * * *"],
    ["rate(12 hours)", "0 */12 * * *"],
    ["rate(6 hours)", "0 */6 * * *"],
    ["rate(1 hour)", "0 * * * *"],
    ["rate(1 day)", "0 0 * * *"],
    ["cron(0 12 * * ? *)", "0 12 * * *"],
    ["cron(15 3 ? * MON-FRI *)", "15 3 * * MON-FRI"],
  ])("%s → %s", (expression, cron) => {
    expect(scheduleToCron(expression)).toBe(cron);
  });

  it.each([
    ["rate(120 minutes)", "0 */2 * * *"],
    ["rate(24 hours)", "0 0 * * *"],
    ["rate(7 days)", "0 0 * * 0"],
    // EventBridge numbers days of the week 1-7 from Sunday, Kubernetes 0-6.
    ["cron(0 12 ? * 2 *)", "0 12 * * 1"],
    ["cron(30 6 ? * 2-6 *)", "30 6 * * 1-5"],
    ["cron(0 0 ? * 1,7 *)", "0 0 * * 0,6"],
  ])("%s → %s (exact only after conversion)", (expression, cron) => {
    expect(scheduleToCron(expression)).toBe(cron);
  });

  it.each([
    ["rate(1 minutes)", 'expected "rate(1 minute)" or "rate(N minutes)"'],
    ["rate(5 minute)", 'expected "rate(1 minute)" or "rate(N minutes)"'],
    ["rate(0 minutes)", 'expected "rate(1 minute)" or "rate(N minutes)"'],
    ["cron(0 12 * * ?)", "expected cron() with 6 fields, got 5"],
    ["cron(0 12 * * * *)", 'expected "?" in exactly one of day-of-month and day-of-week'],
  ])("rejects %s, which EventBridge rejects too", (expression, message) => {
    expect(() => validateScheduleExpression(expression, "orphan_scanner_schedule")).toThrow(
      `orphan_scanner_schedule: ${message}`,
    );
    expect(() => scheduleToCron(expression, "orphan_scanner_schedule")).toThrow(message);
  });

  it.each([
    [
      "cron(a b ? * * *)",
      'drift_monitor_schedule: expected the minute field to be 0-59 with , - * /, got "a"; expected the hour field to be 0-23 with , - * /, got "b" in "cron(a b ? * * *)"',
    ],
    [
      "cron(99 99 ? * * *)",
      'drift_monitor_schedule: expected the minute field to be 0-59 with , - * /, got "99"; expected the hour field to be 0-23 with , - * /, got "99" in "cron(99 99 ? * * *)"',
    ],
    ["cron(0 0 32 * ? *)", 'the day-of-month field to be 1-31 with , - * ? / L W, got "32"'],
    ["cron(0 0 0W * ? *)", 'the day-of-month field to be 1-31 with , - * ? / L W, got "0W"'],
    ["cron(0 0 ? 13 * *)", 'the month field to be 1-12 or JAN-DEC with , - * /, got "13"'],
    ["cron(0 0 ? JAN-FOO * *)", 'the month field to be 1-12 or JAN-DEC with , - * /, got "JAN-FOO"'],
    ["cron(0 0 ? * 8 *)", 'the day-of-week field to be 1-7 or SUN-SAT with , - * ? L #, got "8"'],
    ["cron(0 0 ? * 2#6 *)", 'the day-of-week field to be 1-7 or SUN-SAT with , - * ? L #, got "2#6"'],
    ["cron(0 0 ? * MON * 1969)", "expected cron() with 6 fields, got 7"],
    ["cron(0 0 ? * MON 1969)", 'the year field to be 1970-2199 with , - * /, got "1969"'],
    ["cron(*/0 * ? * MON *)", 'the minute field to be 0-59 with , - * /, got "*/0"'],
    ["cron(0/75 * ? * MON *)", 'the minute field to be 0-59 with , - * /, got "0/75"'],
    ["rate(5 weeks)", 'expected a rate unit of minute, minutes, hour, hours, day, days, got "weeks"'],
    ["rate(x hours)", 'expected a whole number of hours in rate(), got "x"'],
    ["rate(1.5 hours)", 'expected a whole number of hours in rate(), got "1.5"'],
  ])(
    "rejects %s naming the config key, the field, what it expected and what it got",
    (expression, message) => {
      expect(() => validateScheduleExpression(expression, "drift_monitor_schedule")).toThrow(
        /^drift_monitor_schedule: expected /,
      );
      expect(() => validateScheduleExpression(expression, "drift_monitor_schedule")).toThrow(message);
      expect(() =>
        resolveLambdaSchedules((key) => (key === "drift_monitor_schedule" ? expression : undefined)),
      ).toThrow(message);
    },
  );

  it.each([
    "cron(0/15 * ? * 6#3 *)",
    "cron(0 8-17 ? JAN-MAR,DEC MON-FRI 2026-2030)",
    "cron(0 12 L * ? *)",
    "cron(0 12 15W * ? *)",
    "cron(0 12 LW * ? *)",
    "cron(0 12 ? * 6L *)",
    "cron(0 12 ? * sun *)",
    "cron(59 23 31 12 ? 2199)",
    "rate(1 day)",
  ])("accepts %s as EventBridge does", (expression) => {
    expect(validateScheduleExpression(expression, "drift_monitor_schedule").kind).toBe(
      expression.startsWith("rate") ? "rate" : "cron",
    );
  });

  it.each([
    [
      "rate(7 minutes)",
      '"rate(7 minutes)" has no exact Kubernetes cron (7 minutes do not divide an hour); the nearest, "*/7 * * * *", is not exact',
    ],
    ["rate(5 hours)", 'the nearest, "0 */5 * * *", is not exact'],
    ["rate(90 minutes)", "(90 minutes are not whole hours)"],
    [
      "rate(2 days)",
      '(every 2 days restarts at each month\'s start); the nearest, "0 0 */2 * *", is not exact',
    ],
    ["cron(0 12 * * ? 2030)", 'expected the year field of "cron(0 12 * * ? 2030)" to be * on Kubernetes'],
    ["cron(0 12 L * ? *)", "expected a day of month without L or W"],
    ["cron(0 12 ? * 6#3 *)", "expected a day of week without L, W or #"],
  ])("accepts %s on AWS, and on Kubernetes names the key and why it cannot", (expression, message) => {
    expect(validateScheduleExpression(expression, "orphan_scanner_schedule").kind).toBe(
      expression.startsWith("rate") ? "rate" : "cron",
    );
    expect(
      resolveLambdaSchedules((key) => (key === "orphan_scanner_schedule" ? expression : undefined)),
    ).toMatchObject({
      "orphan-scanner": expression,
    });
    expect(() => scheduleToCron(expression, "orphan_scanner_schedule")).toThrow(/^orphan_scanner_schedule: /);
    expect(() => scheduleToCron(expression, "orphan_scanner_schedule")).toThrow(message);
  });
});

describe("optional functions (LAMBDA_CONFIGS.required, stack config disabled_functions)", () => {
  it("leaves out optional functions and keeps the rest", () => {
    const enabled = resolveEnabledFunctions(["sqs-consumer", "compare-models"]);
    expect(enabled).not.toContain("sqs-consumer");
    expect(enabled).not.toContain("compare-models");
    expect(enabled).toHaveLength(LAMBDA_NAMES.length - 2);
    expect(resolveEnabledFunctions([])).toEqual([...LAMBDA_NAMES]);
  });

  it.each([
    [
      "backtest-consumer",
      'disabled_functions: expected optional functions only, got the required function "backtest-consumer"',
    ],
    [
      "update-status",
      'disabled_functions: expected a function the backtest state machine does not invoke, got "update-status"',
    ],
    [
      "no-such-function",
      'disabled_functions: expected names of optional functions (sqs-consumer, check-retraining-needed, compare-models, promote-model, model-rollback), got "no-such-function"',
    ],
  ])("rejects %s", (name, message) => {
    expect(() => resolveEnabledFunctions([name])).toThrow(message);
  });
});

describe("environments, stores and names", () => {
  it("consolidates dev and staging on a t3.small, prod on Fargate (spec §2)", () => {
    expect(CONSOLIDATED_MODE.dev).toEqual({ enabled: true, instanceType: "t3.small" });
    expect(CONSOLIDATED_MODE.staging.enabled).toBe(true);
    expect(CONSOLIDATED_MODE.prod.enabled).toBe(false);
    expect(CONSOLIDATED_SERVICES).toEqual(
      expect.arrayContaining(["backend-api", "data-collection", "mlflow", "strategy-service"]),
    );
    expect(CONSOLIDATED_SERVICES).not.toContain("live-trading");
  });

  it("keeps logs 30 days in dev/staging and 90 in prod", () => {
    expect(LOG_RETENTION_DAYS).toEqual({ dev: 30, staging: 30, prod: 90 });
    expect(serviceLogGroupName("prod")).toBe("/ecs/tradai/prod/services");
  });

  it("names resources as the spec does", () => {
    expect(serviceDiscoveryNamespace("dev")).toBe("tradai-dev.local");
    expect(tableName("dev", "workflowState")).toBe("tradai-workflow-state-dev");
    // lambdas/backtest-consumer/src/handler.ts's default table name, per environment.
    expect(tableName("dev", "backtestIdempotency")).toBe("tradai-backtest-idempotency-dev");
    expect(tableName("prod", "retrainingState")).toBe("tradai-retraining-state-prod");
    expect(tableName("staging", "tradingState")).toBe("tradai-trading-state-staging");
    expect(bucketName("dev", "mlflow")).toBe("tradai-mlflow-dev");
    expect(queueName("dev", "backtest")).toBe("tradai-backtest-dev.fifo");
    expect(deadLetterQueueName("dev", "backtest")).toBe("tradai-backtest-dlq-dev.fifo");
  });

  it("scales the worker on the queue the backtest service produces to", () => {
    expect(BULLMQ_BACKTEST_QUEUE).toBe(DEFAULT_BACKTEST_QUEUE);
  });

  it("rejects an unknown environment naming what it expected", () => {
    expect(parseEnvironment("prod")).toBe("prod");
    expect(() => parseEnvironment("qa", "stack")).toThrow(
      'stack: expected one of dev, staging, prod, got "qa"',
    );
  });
});
