// IAM helpers: policy documents built from statements whose resources are the ARNs they need.
// A wildcard resource is allowed only for the control-plane actions AWS does not scope to a
// resource (listed below); infra/test asserts that no other statement uses `Resource: "*"`.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface PolicyStatement {
  Sid?: string;
  Effect?: "Allow" | "Deny";
  Action: string[];
  Resource: pulumi.Input<pulumi.Input<string>[]> | "*";
  Condition?: Record<string, Record<string, pulumi.Input<string | string[]>>>;
}

/**
 * Actions that only accept `Resource: "*"` (AWS service authorization reference): ECR login,
 * VPC network-interface management for Lambdas in a VPC, X-Ray, CloudWatch metrics (scoped by a
 * namespace condition instead), log delivery set-up for Step Functions, and EC2/ASG describes.
 */
export const WILDCARD_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  "ecr:GetAuthorizationToken",
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
  "ec2:DescribeInstances",
  "ec2:DescribeRouteTables",
  "autoscaling:DescribeAutoScalingGroups",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "cloudwatch:PutMetricData",
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
  "servicediscovery:DiscoverInstances",
  "ecs:ListClusters",
  // Describes the drift detector's `pulumi preview` needs (functions.ts driftDetectorPermissions):
  // configuration reads that IAM offers on * alone.
  "ec2:DescribeVpcs",
  "ec2:DescribeVpcAttribute",
  "ec2:DescribeSubnets",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSecurityGroupRules",
  "ec2:DescribeInternetGateways",
  "ec2:DescribeInstanceAttribute",
  "ec2:DescribeLaunchTemplates",
  "ec2:DescribeLaunchTemplateVersions",
  "ec2:DescribeImages",
  "ec2:DescribeTags",
  "autoscaling:DescribeLifecycleHooks",
  "elasticloadbalancing:DescribeLoadBalancers",
  "elasticloadbalancing:DescribeLoadBalancerAttributes",
  "elasticloadbalancing:DescribeTargetGroups",
  "elasticloadbalancing:DescribeTargetGroupAttributes",
  "elasticloadbalancing:DescribeListeners",
  "elasticloadbalancing:DescribeTargetHealth",
  "elasticloadbalancing:DescribeTags",
  "ecs:DescribeTaskDefinition",
  // Scoped with an ecs:cluster condition instead of a resource.
  "ecs:ListTasks",
]);

export function policyDocument(statements: PolicyStatement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: statements.map((statement) => ({ Effect: "Allow", ...statement })),
  });
}

export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

export interface RoleArgs {
  name: string;
  service: string;
  statements: PolicyStatement[];
  tags: Record<string, string>;
}

/** A role for `service` with one inline policy of the given statements. */
export function createRole(args: RoleArgs, options?: pulumi.CustomResourceOptions): aws.iam.Role {
  const role = new aws.iam.Role(
    args.name,
    { name: args.name, assumeRolePolicy: assumeRolePolicy(args.service), tags: args.tags },
    options,
  );
  if (args.statements.length > 0) {
    new aws.iam.RolePolicy(
      `${args.name}-policy`,
      { role: role.id, policy: policyDocument(args.statements) },
      { ...options, parent: role },
    );
  }
  return role;
}

/** `arn` plus `arn/*` (S3 objects, DynamoDB indexes). */
export function withChildren(arn: pulumi.Input<string>): pulumi.Output<string>[] {
  return [pulumi.output(arn), pulumi.interpolate`${arn}/*`];
}
