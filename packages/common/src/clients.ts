// Connect clients for service-to-service calls: Connect protocol over HTTP/1.1 (works through any
// proxy), a default deadline on every call, and W3C trace context propagated.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { tracingClientInterceptor } from "./telemetry";
import { currentRequestId } from "./logger";

export interface ServiceClientOptions {
  /** Deadline for each call in ms; default 10 000. Streaming calls override it per call. */
  timeoutMs?: number;
  /** "connect" (HTTP/1.1, default) or "grpc" (HTTP/2). */
  protocol?: "connect" | "grpc";
  interceptors?: Interceptor[];
}

/** Forwards the current request id, so one id follows a request through every service. */
const requestIdForwarder: Interceptor = (next) => (request) => {
  const requestId = currentRequestId();
  if (requestId !== undefined && !request.header.has("x-request-id"))
    request.header.set("x-request-id", requestId);
  return next(request);
};

export function createServiceClient<S extends DescService>(
  service: S,
  baseUrl: string,
  options: ServiceClientOptions = {},
): Client<S> {
  const interceptors = [tracingClientInterceptor, requestIdForwarder, ...(options.interceptors ?? [])];
  const defaultTimeoutMs = options.timeoutMs ?? 10_000;
  const transport =
    options.protocol === "grpc"
      ? createGrpcTransport({ baseUrl, interceptors, defaultTimeoutMs })
      : createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors, defaultTimeoutMs });
  return createClient(service, transport);
}
