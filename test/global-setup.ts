// Placeholder: replaced by the real test-stack setup (Redis, PostgreSQL, moto, MLflow).
export default function setup(): void {}
