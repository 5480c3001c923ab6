"""Error type strings carried by ApplicationError and problem responses."""

USER_NOT_FOUND = "UserNotFound"
UNKNOWN_AGENT = "UnknownAgent"
UNKNOWN_KEY_ID = "UnknownKeyId"
LLM_UNAVAILABLE = "LlmUnavailable"
LLM_REJECTED = "LlmRejected"  # the output failed the guard
LLM_BAD_REQUEST = "LlmBadRequest"
LLM_NOT_CONFIGURED = "LlmNotConfigured"
