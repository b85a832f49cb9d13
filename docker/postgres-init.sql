-- Runs once when the compose postgres volume is created: MLflow's backend store lives beside the
-- application database (spec §3.4: MLflow with a PostgreSQL backend).
CREATE DATABASE mlflow;
