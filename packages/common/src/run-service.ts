// Process entry for every service: config first (a bad value stops start-up naming the variable),
// then telemetry, then the service itself; SIGTERM/SIGINT close it gracefully and exit 0.
import {
  booleanField,
  describeConfig,
  enumField,
  loadConfigOrExit,
  portField,
  stringField,
  type ConfigOf,
  type ConfigSchema,
} from "./config";
import { createLogger, type Logger } from "./logger";
import { createServiceServer, PortInUseError, type ServiceRegistration, type HttpRoute } from "./server";
import type { DependencyCheck } from "./health";
import { startTelemetry } from "./telemetry";

/** Fields every service has, under its own prefix (DATA_COLLECTION_PORT, BACKEND_HOST, ...). */
export function commonServiceFields(defaultPort: number) {
  return {
    host: stringField({ description: "interface to bind; 0.0.0.0 in containers", default: "127.0.0.1" }),
    port: portField({ description: "port for Connect/gRPC/HTTP", default: defaultPort }),
    logLevel: enumField(["trace", "debug", "info", "warn", "error", "fatal", "silent"], {
      description: "log level",
      default: "info",
      caseInsensitive: true,
    }),
    traceConsole: booleanField({ description: "print finished spans to stderr (dev)", default: false }),
  };
}

export type CommonServiceConfig = ConfigOf<ReturnType<typeof commonServiceFields>>;

export interface ServiceParts {
  services: ServiceRegistration[];
  dependencyChecks?: DependencyCheck[];
  httpRoutes?: HttpRoute[];
  /** Called after the server closed (close stores, queues, clients). */
  dispose?: () => Promise<void>;
}

export interface RunServiceOptions<S extends ConfigSchema> {
  name: string;
  version?: string;
  /** Env prefix, e.g. "DATA_COLLECTION_". */
  prefix: string;
  defaultPort: number;
  schema: S;
  env: Record<string, string | undefined>;
  build(config: ConfigOf<S> & CommonServiceConfig, logger: Logger): Promise<ServiceParts>;
}

/** Starts a service process; never returns normally (exits on signals). */
export async function runService<S extends ConfigSchema>(options: RunServiceOptions<S>): Promise<void> {
  const schema = { ...commonServiceFields(options.defaultPort), ...options.schema };
  const config = loadConfigOrExit(options.name, { prefix: options.prefix, schema, env: options.env });
  const telemetry = startTelemetry({
    serviceName: options.name,
    serviceVersion: options.version,
    otlpEndpoint: options.env.OTEL_EXPORTER_OTLP_ENDPOINT,
    console: config.traceConsole as boolean,
  });
  const logger = createLogger({ service: options.name, level: config.logLevel as string });
  logger.info({ config: describeConfig(schema, config) }, "starting");
  const typedConfig = config as ConfigOf<S> & CommonServiceConfig;
  const parts = await options.build(typedConfig, logger);
  let server;
  try {
    server = await createServiceServer({
      name: options.name,
      version: options.version,
      host: typedConfig.host,
      port: typedConfig.port,
      logger,
      services: parts.services,
      dependencyChecks: parts.dependencyChecks,
      httpRoutes: parts.httpRoutes,
    });
  } catch (error) {
    if (error instanceof PortInUseError) {
      logger.fatal(`${error.message}: stop the other process or set ${options.prefix}PORT to a free port`);
      process.exit(1);
    }
    throw error;
  }
  const started = server;
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    void started
      .close()
      .then(() => parts.dispose?.())
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "error during shutdown");
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}
