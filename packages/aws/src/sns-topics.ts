// SNS: alerts (orphan scanner, drift monitor, trading kill switch).
import { CreateTopicCommand, PublishCommand, type SNSClient } from "@aws-sdk/client-sns";

export interface PublishOptions {
  topicArn: string;
  /** Objects are sent as JSON. */
  message: string | object;
  /** Email subject; at most 100 characters. */
  subject?: string;
  attributes?: Record<string, string>;
  /** FIFO topics only. */
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export async function publish(sns: SNSClient, options: PublishOptions): Promise<{ messageId: string }> {
  if (options.subject !== undefined && options.subject.length > 100) {
    throw new Error(`subject: expected at most 100 characters, got ${options.subject.length}`);
  }
  const result = await sns.send(
    new PublishCommand({
      TopicArn: options.topicArn,
      Message: typeof options.message === "string" ? options.message : JSON.stringify(options.message),
      Subject: options.subject,
      MessageGroupId: options.messageGroupId,
      MessageDeduplicationId: options.messageDeduplicationId,
      MessageAttributes:
        options.attributes === undefined
          ? undefined
          : Object.fromEntries(
              Object.entries(options.attributes).map(([name, value]) => [
                name,
                { DataType: "String", StringValue: value },
              ]),
            ),
    }),
  );
  if (result.MessageId === undefined)
    throw new Error(`Publish to ${options.topicArn}: no MessageId returned`);
  return { messageId: result.MessageId };
}

/** Creates the topic (idempotent) and returns its ARN. */
export async function createTopic(sns: SNSClient, name: string): Promise<string> {
  const result = await sns.send(new CreateTopicCommand({ Name: name }));
  if (result.TopicArn === undefined) throw new Error(`CreateTopic ${name}: no TopicArn returned`);
  return result.TopicArn;
}
