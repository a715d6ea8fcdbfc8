"""The embedded local cloud: AWS's game-backend services on one loopback port.

Modules, one job each:

``settings``            where it listens and how it behaves (``WORKSHOP_*`` variables)
``partitions``          a region's partition (aws, aws-cn…) and DNS suffix; ARNs in it
``ids``                 seams for time and identifiers (injectable in tests)
``server``              the process: routes each request to the part that serves it
``front_door``          what every request passes first: Host, Origin, exposure, signatures,
                        the admin token (``credentials``, ``sigv4``, ``s3_sigv2``, and
                        ``aws_refusals`` for each service's own error)
``moto_services``       DynamoDB, SNS, SQS, S3, IAM, Logs, Step Functions: moto, in-process
``lambda_runtime``      Lambda functions in worker processes (``lambda_bootstrap`` runs in each)
``lambda_api``          the Lambda REST API (Invoke…) over the runtime
``faults``, ``fault_api``  Lambda errors and delays injected on purpose (as AWS FIS does)
``cloudwatch_logs``     function output into CloudWatch Logs
``websocket_api``       API Gateway WebSocket APIs as data: routes, stages, deployments
``gateway``             WebSocket connections and the ``@connections`` API
``execute_api_urls``    ``*.execute-api.*.amazonaws.com`` addresses mapped to this port
``template``, ``sam``, ``intrinsics``   reading a SAM / CloudFormation template
``deployer``, ``providers``             planning and applying it, one provider per service
``scheduler``           ``Schedule`` events (EventBridge rules) firing Lambda functions
``cloudformation_api``  the CloudFormation API over the deployer (change sets, stacks,
                        events); ``cloudformation_stacks`` its record of stacks,
                        ``cloudformation_runs`` running the deployer for it,
                        ``cloudformation_templates`` what it reads from a template

Nothing here is imported by ``import workshop``: notebooks talk to the running cloud
over HTTP (``workshop.cloud``) and with plain boto3.
"""
