// Source of the inline update-nat-routes Lambda (spec §5: the one function that is not an image,
// so it works while the NAT instance, and with it the path to ECR, is being replaced).
// Called by EventBridge for the NAT group's launch lifecycle hook: it disables the new instance's
// source/destination check, points the private route table's default route at it, and completes
// the lifecycle action. Uses the AWS SDK v3 that the nodejs20.x runtime ships.
export const NAT_ROUTES_HANDLER = `
import { EC2Client, ModifyInstanceAttributeCommand, ReplaceRouteCommand, CreateRouteCommand } from "@aws-sdk/client-ec2";
import { AutoScalingClient, CompleteLifecycleActionCommand } from "@aws-sdk/client-auto-scaling";

const ec2 = new EC2Client({});
const autoscaling = new AutoScalingClient({});

export async function handler(event) {
  const detail = event.detail ?? {};
  const instanceId = detail.EC2InstanceId;
  if (!instanceId) throw new Error("event.detail.EC2InstanceId: expected an instance id, got " + JSON.stringify(instanceId));
  const routeTableIds = (process.env.PRIVATE_ROUTE_TABLE_IDS ?? "").split(",").filter(Boolean);
  let result = "CONTINUE";
  try {
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, SourceDestCheck: { Value: false } }));
    for (const routeTableId of routeTableIds) {
      const route = { RouteTableId: routeTableId, DestinationCidrBlock: "0.0.0.0/0", InstanceId: instanceId };
      try {
        await ec2.send(new ReplaceRouteCommand(route));
      } catch (error) {
        if (error.name !== "InvalidRoute.NotFound") throw error;
        await ec2.send(new CreateRouteCommand(route));
      }
    }
  } catch (error) {
    result = "ABANDON";
    console.error(JSON.stringify({ level: "error", msg: "NAT route update failed", instanceId, error: String(error) }));
  }
  await autoscaling.send(new CompleteLifecycleActionCommand({
    AutoScalingGroupName: detail.AutoScalingGroupName,
    LifecycleHookName: detail.LifecycleHookName,
    LifecycleActionToken: detail.LifecycleActionToken,
    LifecycleActionResult: result,
    InstanceId: instanceId,
  }));
  console.log(JSON.stringify({ level: "info", msg: "NAT lifecycle action completed", instanceId, result, routeTableIds }));
  return { instanceId, result, routeTableIds };
}
`;
