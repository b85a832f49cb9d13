// Pulumi entry point: `pulumi up -s dev|staging|prod` from infra/ (see Pulumi.yaml).
import * as pulumi from "@pulumi/pulumi";
import { argsFromConfig, createTradaiInfrastructure } from "./src/tradai-infrastructure";

const infrastructure = createTradaiInfrastructure(argsFromConfig(pulumi.getStack(), new pulumi.Config()));

export const clusterName = infrastructure.compute.cluster.name;
export const loadBalancerDns = infrastructure.compute.loadBalancer.dnsName;
export const serviceNamespace = infrastructure.compute.namespace.name;
export const backtestQueueUrl = infrastructure.stores.queues.backtest.url;
export const stateMachineArn = infrastructure.functions.stateMachine.arn;
export const alertTopicArn = infrastructure.stores.alertTopic.arn;
export const schedules = infrastructure.schedules;
