// Fixtures for the WorkflowStateRepository contract suite: each opens a fresh namespace (a temp
// SQLite file, a random Postgres schema, a random DynamoDB table on moto) and two repository
// instances on it — `repository` and `peer`, separate connections/clients — so races between them
// are real races between two writers.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createAwsClients, deleteTableIfExists } from "@tradai/aws";
import type { WorkflowStateRepository } from "../../src/core/workflow-state-repository";
import { createDynamoDbWorkflowStateRepository } from "../../src/infrastructure/dynamodb-workflow-state-repository";
import { createPostgresWorkflowStateRepository } from "../../src/infrastructure/postgres-workflow-state-repository";
import { createSqliteWorkflowStateRepository } from "../../src/infrastructure/sqlite-workflow-state-repository";
import { startSerialMotoServer, type SerialMotoServer } from "./serial-moto-server";

export interface RepositoryPair {
  repository: WorkflowStateRepository;
  peer: WorkflowStateRepository;
  dispose(): Promise<void>;
}

export interface WorkflowStateFixture {
  name: string;
  /** Why it cannot run here (its engine's URL is not set), or undefined when it can. */
  unavailable: string | undefined;
  open(clock: () => number): Promise<RepositoryPair>;
  /** Stops what the fixture started for the whole file. */
  teardown?(): Promise<void>;
}

const randomName = (prefix: string) => `${prefix}${randomBytes(6).toString("hex")}`;

export const sqliteFixture: WorkflowStateFixture = {
  name: "sqlite",
  unavailable: undefined,
  async open(clock) {
    const dir = mkdtempSync(path.join(tmpdir(), "tradai-workflow-state-"));
    const file = path.join(dir, "state.db");
    const repository = createSqliteWorkflowStateRepository({ path: file, clock });
    const peer = createSqliteWorkflowStateRepository({ path: file, clock });
    return {
      repository,
      peer,
      async dispose() {
        await repository.close();
        await peer.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgresUrl = process.env.TRADAI_TEST_POSTGRES_URL;

export const postgresFixture: WorkflowStateFixture = {
  name: "postgres",
  unavailable: postgresUrl === undefined ? "TRADAI_TEST_POSTGRES_URL is not set" : undefined,
  async open(clock) {
    const schema = randomName("workflow_");
    const pools = [
      new pg.Pool({ connectionString: postgresUrl, max: 4 }),
      new pg.Pool({ connectionString: postgresUrl, max: 4 }),
    ];
    const [first, second] = pools as [pg.Pool, pg.Pool];
    const repository = await createPostgresWorkflowStateRepository({ pool: first, schema, clock });
    const peer = await createPostgresWorkflowStateRepository({ pool: second, schema, clock });
    return {
      repository,
      peer,
      async dispose() {
        await first.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await Promise.all(pools.map((pool) => pool.end()));
      },
    };
  },
};

// TRADAI_TEST_MOTO_URL says moto is selected and installed; the DynamoDB contract runs on a
// single-threaded moto of its own (see serial-moto-server.ts for why), started once per file.
let serialMoto: Promise<SerialMotoServer> | undefined;

export const dynamoDbFixture: WorkflowStateFixture = {
  name: "dynamodb",
  unavailable: process.env.TRADAI_TEST_MOTO_URL === undefined ? "TRADAI_TEST_MOTO_URL is not set" : undefined,
  async open(clock) {
    serialMoto ??= startSerialMotoServer();
    const moto = await serialMoto;
    const tableName = randomName("tradai-workflow-state-test-");
    const options = {
      region: "us-east-1",
      endpoint: moto.url,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    };
    const clients = [createAwsClients(options), createAwsClients(options)] as const;
    const repository = await createDynamoDbWorkflowStateRepository({
      clients: clients[0],
      tableName,
      createTable: true,
      clock,
    });
    const peer = await createDynamoDbWorkflowStateRepository({ clients: clients[1], tableName, clock });
    return {
      repository,
      peer,
      async dispose() {
        await deleteTableIfExists(clients[0].dynamodb, tableName);
        for (const client of clients) client.destroy();
      },
    };
  },
  async teardown() {
    const started = serialMoto;
    serialMoto = undefined;
    if (started !== undefined) await (await started).stop();
  },
};

export const WORKFLOW_STATE_FIXTURES: readonly WorkflowStateFixture[] = [
  sqliteFixture,
  postgresFixture,
  dynamoDbFixture,
];
