import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  DomainError,
  dispositionOf,
  invalidArgument,
  toConnectError,
  toProblemDetails,
  violationsOf,
} from "./errors";

describe("error model", () => {
  it("keeps ConnectErrors as they are", () => {
    const original = new ConnectError("gone", Code.NotFound);
    expect(toConnectError(original)).toBe(original);
  });

  it("turns unknown errors into INTERNAL without leaking their message, keeping the cause", () => {
    const cause = new Error("password=hunter2 at db.ts:12");
    const converted = toConnectError(cause);
    expect(converted.code).toBe(Code.Internal);
    expect(converted.rawMessage).toBe("internal error");
    expect(converted.cause).toBe(cause);
  });

  it("carries field violations from a DomainError through Connect metadata", () => {
    const error = invalidArgument("bad run config", [
      {
        field: "timerange",
        message: "end before start",
        expected: "start < end",
        found: "20240101-20230101",
      },
    ]);
    const converted = toConnectError(error);
    expect(converted.code).toBe(Code.InvalidArgument);
    expect(violationsOf(converted)).toEqual([
      {
        field: "timerange",
        message: "end before start",
        expected: "start < end",
        found: "20240101-20230101",
      },
    ]);
  });

  it("renders RFC 9457 problem details with HTTP status from the code", () => {
    const problem = toProblemDetails(new DomainError(Code.NotFound, "no job 42"), "/api/v1/backtests/42");
    expect(problem).toEqual({
      type: "https://tradai.dev/problems/not-found",
      title: "Not Found",
      status: 404,
      detail: "no job 42",
      instance: "/api/v1/backtests/42",
      code: "not_found",
    });
    expect(toProblemDetails(new Error("boom")).status).toBe(500);
    expect(toProblemDetails(new ConnectError("slow", Code.DeadlineExceeded)).status).toBe(504);
    expect(toProblemDetails(new ConnectError("later", Code.Unimplemented)).status).toBe(501);
  });

  it("classifies errors by what the caller should do", () => {
    expect(dispositionOf(new ConnectError("x", Code.Unavailable))).toBe("retryable");
    expect(dispositionOf(new ConnectError("x", Code.InvalidArgument))).toBe("not_retryable");
    expect(dispositionOf(new Error("x"))).toBe("fatal");
  });
});
