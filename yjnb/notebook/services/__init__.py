"""What the commands and the forms share: the task service, streams, budgets, conversations,
prompt interpolation and the checks made before a request is sent."""
