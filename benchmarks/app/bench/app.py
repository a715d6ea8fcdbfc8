import boto3

clients = {}


def noop(event, context):
    return event


def echo(event, context):
    request = event["requestContext"]
    endpoint = f"https://{request['domainName']}/{request['stage']}"
    if endpoint not in clients:
        clients[endpoint] = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    clients[endpoint].post_to_connection(ConnectionId=request["connectionId"],
                                         Data=event["body"].encode())
    return {"statusCode": 200}
