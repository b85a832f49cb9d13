// WorkflowStateRepository on DynamoDB: the spec's tradai-workflow-state-{env} table (§7). Every
// status change is an UpdateItem with a ConditionExpression on the current status (and worker), so
// of two racing writers DynamoDB applies exactly one; the loser gets ConditionalCheckFailed, which
// becomes a JobConflictError. Idempotency keys are their own items, written in one transaction with
// the job, so a key can never name two jobs.
//
// Table layout (single table, on-demand):
//   pk (S, hash key)          "job#<job id>" | "idempotency#<key>"
//   GSI "by_created":         gsi_list (S) = "job" on job items, created_sk (S) = "<ms, 15 digits>#<job id>"
//   job items carry the JobRecord columns (absent = null); idempotency items carry job_id.
import { randomUUID } from "node:crypto";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import {
  ensureTable,
  isConditionalCheckFailed,
  transactionCancellationReasons,
  type AwsClients,
} from "@tradai/aws";
import type { BacktestJob } from "../core/backtest-job";
import {
  JOB_RECORD_COLUMNS,
  JobNotFoundError,
  conflictFor,
  jobFromRecord,
  newJobRecord,
  normalizeListQuery,
  pageFrom,
  planAnnotations,
  planProgress,
  planTransition,
  type JobRecord,
  type WorkflowStateRepository,
  type WorkflowStateRepositoryOptions,
  type WritePlan,
} from "../core/workflow-state-repository";

export const WORKFLOW_STATE_KEY = "pk";
export const WORKFLOW_STATE_LIST_INDEX = "by_created";

/** The table's definition, shared with infra/ and the tests. */
export function workflowStateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: WORKFLOW_STATE_KEY, AttributeType: "S" },
      { AttributeName: "gsi_list", AttributeType: "S" },
      { AttributeName: "created_sk", AttributeType: "S" },
    ],
    KeySchema: [{ AttributeName: WORKFLOW_STATE_KEY, KeyType: "HASH" }],
    GlobalSecondaryIndexes: [
      {
        IndexName: WORKFLOW_STATE_LIST_INDEX,
        KeySchema: [
          { AttributeName: "gsi_list", KeyType: "HASH" },
          { AttributeName: "created_sk", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
    ],
  };
}

export interface DynamoDbWorkflowStateRepositoryOptions extends WorkflowStateRepositoryOptions {
  clients: Pick<AwsClients, "dynamodb" | "dynamodbDocument">;
  /** e.g. "tradai-workflow-state-dev". */
  tableName: string;
  /** Create the table when missing (tests, the local stack). Default false: infra/ owns it. */
  createTable?: boolean;
}

const jobKey = (jobId: string) => `job#${jobId}`;
const idempotencyKeyOf = (key: string) => `idempotency#${key}`;
const sortKey = (createdAt: number, jobId: string) => `${String(createdAt).padStart(15, "0")}#${jobId}`;
const timePrefix = (ms: number) => String(Math.max(0, ms)).padStart(15, "0");

type Item = Record<string, unknown>;

function itemFromRecord(record: JobRecord): Item {
  const item: Item = {
    [WORKFLOW_STATE_KEY]: jobKey(record.job_id),
    gsi_list: "job",
    created_sk: sortKey(record.created_at, record.job_id),
  };
  for (const column of JOB_RECORD_COLUMNS) {
    if (record[column] !== null) item[column] = record[column];
  }
  return item;
}

function recordFromItem(item: Item): JobRecord {
  const record: Record<string, unknown> = {};
  for (const column of JOB_RECORD_COLUMNS) record[column] = item[column] ?? null;
  return record as unknown as JobRecord;
}

export async function createDynamoDbWorkflowStateRepository(
  options: DynamoDbWorkflowStateRepositoryOptions,
): Promise<WorkflowStateRepository> {
  const table = options.tableName;
  const clock = options.clock ?? Date.now;
  const generateId = options.generateId ?? randomUUID;
  if (options.createTable === true)
    await ensureTable(options.clients.dynamodb, workflowStateTableDefinition(table));
  const documents: DynamoDBDocumentClient = options.clients.dynamodbDocument;

  const getRecord = async (jobId: string): Promise<JobRecord | undefined> => {
    const result = await documents.send(
      new GetCommand({
        TableName: table,
        Key: { [WORKFLOW_STATE_KEY]: jobKey(jobId) },
        ConsistentRead: true,
      }),
    );
    return result.Item === undefined ? undefined : recordFromItem(result.Item);
  };
  const get = async (jobId: string): Promise<BacktestJob | undefined> => {
    const record = await getRecord(jobId);
    return record === undefined ? undefined : jobFromRecord(record);
  };

  const conditionalUpdate = async (jobId: string, plan: WritePlan | undefined, set: WritePlan["set"]) => {
    const names: Record<string, string> = {
      "#pk": WORKFLOW_STATE_KEY,
      "#updated_at": "updated_at",
      "#version": "version",
    };
    const values: Record<string, unknown> = { ":updated_at": clock(), ":one": 1 };
    const assignments = ["#updated_at = :updated_at", "#version = #version + :one"];
    const removals: string[] = [];
    for (const [column, value] of Object.entries(set)) {
      names[`#${column}`] = column;
      if (value === null) {
        removals.push(`#${column}`);
      } else {
        values[`:${column}`] = value;
        assignments.push(`#${column} = :${column}`);
      }
    }
    if (plan?.incrementAttempts === true) {
      names["#attempts"] = "attempts";
      assignments.push("#attempts = #attempts + :one");
    }
    const conditions = ["attribute_exists(#pk)"];
    if (plan !== undefined) {
      names["#status"] = "status";
      const placeholders = plan.expectedStatuses.map((status, index) => {
        values[`:expected_${index}`] = status;
        return `:expected_${index}`;
      });
      conditions.push(`#status IN (${placeholders.join(", ")})`);
      if (plan.expectedWorkerId !== undefined) {
        names["#worker_id"] = "worker_id";
        values[":expected_worker_id"] = plan.expectedWorkerId;
        conditions.push("#worker_id = :expected_worker_id");
      }
    }
    try {
      const result = await documents.send(
        new UpdateCommand({
          TableName: table,
          Key: { [WORKFLOW_STATE_KEY]: jobKey(jobId) },
          UpdateExpression: `SET ${assignments.join(", ")}${removals.length > 0 ? ` REMOVE ${removals.join(", ")}` : ""}`,
          ConditionExpression: conditions.join(" AND "),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return result.Attributes === undefined ? undefined : jobFromRecord(recordFromItem(result.Attributes));
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  };

  return {
    async create(input) {
      const record = newJobRecord(input, clock(), generateId);
      const jobPut = {
        TableName: table,
        Item: itemFromRecord(record),
        ConditionExpression: "attribute_not_exists(#pk)",
        ExpressionAttributeNames: { "#pk": WORKFLOW_STATE_KEY },
      };
      if (record.idempotency_key === null) {
        await documents.send(new PutCommand(jobPut));
        return { job: jobFromRecord(record), existing: false };
      }
      try {
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: jobPut },
              {
                Put: {
                  TableName: table,
                  Item: {
                    [WORKFLOW_STATE_KEY]: idempotencyKeyOf(record.idempotency_key),
                    job_id: record.job_id,
                  },
                  ConditionExpression: "attribute_not_exists(#pk)",
                  ExpressionAttributeNames: { "#pk": WORKFLOW_STATE_KEY },
                },
              },
            ],
          }),
        );
        return { job: jobFromRecord(record), existing: false };
      } catch (error) {
        const reasons = transactionCancellationReasons(error);
        if (reasons?.[1] !== "ConditionalCheckFailed") throw error;
      }
      const keyItem = await documents.send(
        new GetCommand({
          TableName: table,
          Key: { [WORKFLOW_STATE_KEY]: idempotencyKeyOf(record.idempotency_key) },
          ConsistentRead: true,
        }),
      );
      const existingId = keyItem.Item?.job_id as string | undefined;
      const existing = existingId === undefined ? undefined : await get(existingId);
      if (existing === undefined) {
        throw new Error(`idempotency key ${record.idempotency_key}: held, but its job is gone`);
      }
      return { job: existing, existing: true };
    },

    get,

    async findByIdempotencyKey(idempotencyKey) {
      const keyItem = await documents.send(
        new GetCommand({
          TableName: table,
          Key: { [WORKFLOW_STATE_KEY]: idempotencyKeyOf(idempotencyKey) },
          ConsistentRead: true,
        }),
      );
      const jobId = keyItem.Item?.job_id as string | undefined;
      return jobId === undefined ? undefined : get(jobId);
    },

    async delete(jobId) {
      const record = await getRecord(jobId);
      if (record === undefined) return false;
      const key = { [WORKFLOW_STATE_KEY]: jobKey(jobId) };
      if (record.idempotency_key === null) {
        await documents.send(new DeleteCommand({ TableName: table, Key: key }));
      } else {
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: { TableName: table, Key: key } },
              {
                Delete: {
                  TableName: table,
                  Key: { [WORKFLOW_STATE_KEY]: idempotencyKeyOf(record.idempotency_key) },
                },
              },
            ],
          }),
        );
      }
      return true;
    },

    async list(query) {
      const normalized = normalizeListQuery(query);
      const names: Record<string, string> = { "#gsi_list": "gsi_list" };
      const values: Record<string, unknown> = { ":job": "job" };
      let keyCondition = "#gsi_list = :job";
      const { createdFrom, createdTo } = normalized;
      if (createdFrom !== undefined || createdTo !== undefined) {
        // "<15-digit ms>" sorts before "<same ms>#<id>" and after every earlier ms: BETWEEN the two
        // prefixes is exactly created_at >= from AND created_at < to.
        names["#created_sk"] = "created_sk";
        values[":from"] = timePrefix(createdFrom ?? 0);
        values[":to"] = createdTo === undefined ? "~" : timePrefix(createdTo);
        keyCondition += " AND #created_sk BETWEEN :from AND :to";
      }
      const filters: string[] = [];
      if (normalized.strategy !== undefined) {
        names["#strategy"] = "strategy";
        values[":strategy"] = normalized.strategy;
        filters.push("#strategy = :strategy");
      }
      if (normalized.statuses !== undefined) {
        names["#status"] = "status";
        const placeholders = normalized.statuses.map((status, index) => {
          values[`:status_${index}`] = status;
          return `:status_${index}`;
        });
        filters.push(`#status IN (${placeholders.join(", ")})`);
      }
      const wanted = normalized.pageSize + 1;
      const records: JobRecord[] = [];
      let startKey: Record<string, unknown> | undefined =
        normalized.after === undefined
          ? undefined
          : {
              [WORKFLOW_STATE_KEY]: jobKey(normalized.after.jobId),
              gsi_list: "job",
              created_sk: sortKey(normalized.after.createdAt, normalized.after.jobId),
            };
      // Filters apply after Limit, so a page may take several queries; each one advances the key.
      for (let round = 0; round < 10_000 && records.length < wanted; round++) {
        const result = await documents.send(
          new QueryCommand({
            TableName: table,
            IndexName: WORKFLOW_STATE_LIST_INDEX,
            KeyConditionExpression: keyCondition,
            FilterExpression: filters.length > 0 ? filters.join(" AND ") : undefined,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: filters.length > 0 ? Math.max(wanted, 100) : wanted - records.length,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of result.Items ?? []) {
          if (records.length < wanted) records.push(recordFromItem(item));
        }
        startKey = result.LastEvaluatedKey;
        if (startKey === undefined) break;
      }
      return pageFrom(records, normalized.pageSize);
    },

    async transition(jobId, request) {
      const plan = planTransition(request, clock());
      const updated = await conditionalUpdate(jobId, plan, plan.set);
      if (updated !== undefined) return updated;
      throw conflictFor(jobId, request.to, plan, await get(jobId));
    },

    async updateProgress(jobId, update) {
      const plan = planProgress(update);
      const updated = await conditionalUpdate(jobId, plan, plan.set);
      if (updated !== undefined) return updated;
      throw conflictFor(jobId, "PROGRESS", plan, await get(jobId));
    },

    async annotate(jobId, annotations) {
      const updated = await conditionalUpdate(jobId, undefined, planAnnotations(annotations));
      if (updated === undefined) throw new JobNotFoundError(jobId);
      return updated;
    },

    async close() {
      // The clients belong to the caller (one AwsClients per process).
    },
  };
}
