/**
 * The AWS SDK clients, made once per container on first use. Endpoint and region come from the
 * environment (AWS_ENDPOINT_URL, AWS_REGION), the same code locally (moto) and on AWS.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";

let dynamo: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let sns: SNSClient | undefined;
let ssm: SSMClient | undefined;

export function dynamoClient(): DynamoDBClient {
  dynamo ??= new DynamoDBClient({});
  return dynamo;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

export function snsClient(): SNSClient {
  sns ??= new SNSClient({});
  return sns;
}

export function ssmClient(): SSMClient {
  ssm ??= new SSMClient({});
  return ssm;
}
