// The VPC: public subnets (ALB, NAT instance), private subnets (services, tasks, Lambdas), and a
// NAT instance in an auto-scaling group of one, whose launch lifecycle hook lets update-nat-routes
// point the private route table at each new instance (a NAT gateway costs ~10x more; spec §5).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_NAMES } from "../shared/config";
import type { Environment, Topology } from "../shared/config";

export interface NetworkArgs {
  environment: Environment;
  topology: Topology;
  /** CIDR of the VPC. Default 10.0.0.0/16 (a /24 per subnet is carved from it). */
  cidr: string;
  availabilityZones: string[];
  /** Instance type of the NAT instance. Default t3.nano. */
  natInstanceType: string;
  tags: Record<string, string>;
}

export interface Network {
  vpc: aws.ec2.Vpc;
  publicSubnets: aws.ec2.Subnet[];
  privateSubnets: aws.ec2.Subnet[];
  privateRouteTable: aws.ec2.RouteTable;
  natGroup: aws.autoscaling.Group;
  natLifecycleHookName: string;
  albSecurityGroup: aws.ec2.SecurityGroup;
  servicesSecurityGroup: aws.ec2.SecurityGroup;
  lambdaSecurityGroup: aws.ec2.SecurityGroup;
}

export const NAT_LIFECYCLE_HOOK = "update-nat-routes";

/** The n-th /24 of a /16 (10.0.0.0/16, 3 → 10.0.3.0/24). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const match = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(vpcCidr);
  if (match === null) throw new Error(`vpc_cidr: expected a /16 such as 10.0.0.0/16, got "${vpcCidr}"`);
  return `${match[1]}.${match[2]}.${index}.0/24`;
}

export function createNetwork(args: NetworkArgs): Network {
  const { environment, tags } = args;
  const prefix = `tradai-${environment}`;
  const named = (name: string) => ({ ...tags, Name: name });

  const vpc = new aws.ec2.Vpc(`${prefix}-vpc`, {
    cidrBlock: args.cidr,
    enableDnsHostnames: true,
    enableDnsSupport: true,
    tags: named(`${prefix}-vpc`),
  });
  const internetGateway = new aws.ec2.InternetGateway(`${prefix}-igw`, {
    vpcId: vpc.id,
    tags: named(`${prefix}-igw`),
  });
  const publicRouteTable = new aws.ec2.RouteTable(`${prefix}-public`, {
    vpcId: vpc.id,
    routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }],
    tags: named(`${prefix}-public`),
  });
  // No default route here: update-nat-routes owns it (it changes whenever the NAT instance does).
  const privateRouteTable = new aws.ec2.RouteTable(`${prefix}-private`, {
    vpcId: vpc.id,
    tags: named(`${prefix}-private`),
  });

  const publicSubnets = args.availabilityZones.map((zone, index) => {
    const subnet = new aws.ec2.Subnet(`${prefix}-public-${zone}`, {
      vpcId: vpc.id,
      availabilityZone: zone,
      cidrBlock: subnetCidr(args.cidr, index),
      mapPublicIpOnLaunch: false,
      tags: named(`${prefix}-public-${zone}`),
    });
    new aws.ec2.RouteTableAssociation(`${prefix}-public-${zone}`, {
      subnetId: subnet.id,
      routeTableId: publicRouteTable.id,
    });
    return subnet;
  });
  const privateSubnets = args.availabilityZones.map((zone, index) => {
    const subnet = new aws.ec2.Subnet(`${prefix}-private-${zone}`, {
      vpcId: vpc.id,
      availabilityZone: zone,
      cidrBlock: subnetCidr(args.cidr, 10 + index),
      tags: named(`${prefix}-private-${zone}`),
    });
    new aws.ec2.RouteTableAssociation(`${prefix}-private-${zone}`, {
      subnetId: subnet.id,
      routeTableId: privateRouteTable.id,
    });
    return subnet;
  });

  const natSecurityGroup = new aws.ec2.SecurityGroup(`${prefix}-nat`, {
    vpcId: vpc.id,
    description: "NAT instance: forwards traffic from the VPC to the internet",
    ingress: [
      { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: [args.cidr], description: "from the VPC" },
    ],
    egress: [
      { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "to the internet" },
    ],
    tags: named(`${prefix}-nat`),
  });
  const natAmi = aws.ec2.getAmiOutput({
    mostRecent: true,
    owners: ["amazon"],
    filters: [
      { name: "name", values: ["al2023-ami-2023.*-x86_64"] },
      { name: "architecture", values: ["x86_64"] },
    ],
  });
  const natUserData = [
    "#!/bin/bash",
    "set -euo pipefail",
    "dnf install -y iptables-services",
    "sysctl -w net.ipv4.ip_forward=1",
    "echo 'net.ipv4.ip_forward=1' > /etc/sysctl.d/90-nat.conf",
    "interface=$(ip route show default | awk '{print $5}')",
    'iptables -t nat -A POSTROUTING -o "$interface" -j MASQUERADE',
    "iptables -F FORWARD",
    "service iptables save",
    "systemctl enable --now iptables",
  ].join("\n");
  const natTemplate = new aws.ec2.LaunchTemplate(`${prefix}-nat`, {
    imageId: natAmi.id,
    instanceType: args.natInstanceType,
    userData: Buffer.from(natUserData).toString("base64"),
    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
    networkInterfaces: [{ associatePublicIpAddress: "true", securityGroups: [natSecurityGroup.id] }],
    tagSpecifications: [{ resourceType: "instance", tags: named(`${prefix}-nat`) }],
    tags,
  });
  const natGroup = new aws.autoscaling.Group(`${prefix}-nat`, {
    name: `${prefix}-nat`,
    minSize: 1,
    maxSize: 1,
    desiredCapacity: 1,
    vpcZoneIdentifiers: publicSubnets.map((subnet) => subnet.id),
    launchTemplate: { id: natTemplate.id, version: "$Latest" },
    healthCheckType: "EC2",
    initialLifecycleHooks: [
      {
        name: NAT_LIFECYCLE_HOOK,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        heartbeatTimeout: 300,
        defaultResult: "ABANDON",
      },
    ],
    tags: Object.entries(named(`${prefix}-nat`)).map(([key, value]) => ({
      key,
      value,
      propagateAtLaunch: true,
    })),
  });

  const albSecurityGroup = new aws.ec2.SecurityGroup(`${prefix}-alb`, {
    vpcId: vpc.id,
    description: "Public load balancer in front of the gateway",
    ingress: [
      { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS" },
      {
        protocol: "tcp",
        fromPort: 80,
        toPort: 80,
        cidrBlocks: ["0.0.0.0/0"],
        description: "HTTP (redirect)",
      },
    ],
    egress: [
      { protocol: "tcp", fromPort: 0, toPort: 65535, cidrBlocks: [args.cidr], description: "to the VPC" },
    ],
    tags: named(`${prefix}-alb`),
  });
  const lambdaSecurityGroup = new aws.ec2.SecurityGroup(`${prefix}-lambda`, {
    vpcId: vpc.id,
    description: "Lambdas in the VPC: outbound only",
    egress: [
      {
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["0.0.0.0/0"],
        description: "AWS APIs, services",
      },
    ],
    tags: named(`${prefix}-lambda`),
  });
  const gatewayPort = args.topology.services["backend-api"].port ?? 0;
  const internalPorts = SERVICE_NAMES.map((name) => args.topology.services[name].port).filter(
    (port): port is number => port !== null,
  );
  const servicesSecurityGroup = new aws.ec2.SecurityGroup(`${prefix}-services`, {
    vpcId: vpc.id,
    description: "ECS services, tasks and the consolidated host",
    ingress: [
      {
        protocol: "tcp",
        fromPort: gatewayPort,
        toPort: gatewayPort,
        securityGroups: [albSecurityGroup.id],
        description: "gateway from the load balancer",
      },
      ...internalPorts.map((port) => ({
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        self: true,
        securityGroups: [lambdaSecurityGroup.id],
        description: `port ${port} from services and Lambdas`,
      })),
    ],
    egress: [
      {
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["0.0.0.0/0"],
        description: "exchanges, AWS APIs",
      },
    ],
    tags: named(`${prefix}-services`),
  });

  return {
    vpc,
    publicSubnets,
    privateSubnets,
    privateRouteTable,
    natGroup,
    natLifecycleHookName: NAT_LIFECYCLE_HOOK,
    albSecurityGroup,
    servicesSecurityGroup,
    lambdaSecurityGroup,
  };
}

export function subnetIds(subnets: aws.ec2.Subnet[]): pulumi.Output<string[]> {
  return pulumi.all(subnets.map((subnet) => subnet.id));
}
