// BacktestService RPCs: transport → domain calls, nothing else.
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { StructSchema, timestampDate } from "@bufbuild/protobuf/wkt";
import type { ConnectError, ServiceImpl } from "@connectrpc/connect";
import { currentTraceHeaders, toConnectError, violationsOf } from "@tradai/common";
import { JobStatus as ProtoJobStatus, type BacktestService } from "@tradai/proto";
import type { BacktestServiceCore } from "../core/backtest-service";
import { configFromProto, jobToProto, statusFromProto, statusToProto } from "./backtest-mapping";
import { resultToProto } from "./result-mapping";

/**
 * The error as the client sees it: besides the `tradai-violations-bin` metadata, the field
 * violations travel as a Connect error detail (a google.protobuf.Struct `{violations: [{field,
 * message, expected, found}]}`), which any Connect or gRPC client reads with `findDetails`.
 */
export function toBacktestConnectError(error: unknown): ConnectError {
  const connectError = toConnectError(error);
  const violations = violationsOf(connectError);
  if (violations.length > 0 && connectError.details.length === 0) {
    connectError.details.push({
      desc: StructSchema,
      value: fromJson(StructSchema, { violations: violations as unknown as JsonValue }),
    });
  }
  return connectError;
}

export function createBacktestHandlers(service: BacktestServiceCore): ServiceImpl<typeof BacktestService> {
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toBacktestConnectError(error);
    }
  };
  return {
    submitBacktest: (request) =>
      guard(async () => {
        const { job, existing } = await service.submit({
          config: configFromProto(request.config),
          ...(request.idempotencyKey === "" ? {} : { idempotencyKey: request.idempotencyKey }),
          traceHeaders: currentTraceHeaders(),
        });
        // A new job was accepted as QUEUED (the spec's sequence diagram); a fast worker may already
        // have claimed it, which GetBacktest shows. An existing job answers with its current status.
        return {
          jobId: job.jobId,
          status: existing ? statusToProto(job.status) : ProtoJobStatus.QUEUED,
          existing,
        };
      }),
    getBacktest: (request) => guard(async () => ({ job: jobToProto(await service.get(request.jobId)) })),
    listBacktests: (request) =>
      guard(async () => {
        const status = statusFromProto(request.status);
        const page = await service.list({
          ...(request.strategy === "" ? {} : { strategy: request.strategy }),
          ...(status === undefined ? {} : { status }),
          ...(request.created?.start === undefined
            ? {}
            : { createdFrom: timestampDate(request.created.start) }),
          ...(request.created?.end === undefined ? {} : { createdTo: timestampDate(request.created.end) }),
          ...(request.page?.pageSize ? { pageSize: request.page.pageSize } : {}),
          ...(request.page?.pageToken ? { pageToken: request.page.pageToken } : {}),
        });
        return {
          jobs: page.jobs.map(jobToProto),
          page: { nextPageToken: page.nextPageToken ?? "", totalSize: -1n },
        };
      }),
    cancelBacktest: (request) =>
      guard(async () => ({ job: jobToProto(await service.cancel(request.jobId)) })),
    async *watchBacktest(request, context) {
      try {
        for await (const job of service.watch(request.jobId, context.signal)) yield { job: jobToProto(job) };
      } catch (error) {
        throw toBacktestConnectError(error);
      }
    },
    getBacktestResult: (request) =>
      guard(async () => {
        const { job, result } = await service.result(request.jobId);
        return resultToProto(job, result);
      }),
  };
}
