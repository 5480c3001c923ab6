"""Error type strings carried by ApplicationError and problem responses."""

USER_NOT_FOUND = "UserNotFound"
TOKEN_INVALID_GRANT = "TokenInvalidGrant"  # the provider refused the refresh token: reconnect
UNKNOWN_AGENT = "UnknownAgent"
UNKNOWN_KEY_ID = "UnknownKeyId"
LLM_UNAVAILABLE = "LlmUnavailable"
LLM_REJECTED = "LlmRejected"  # the output failed the guard
LLM_BAD_REQUEST = "LlmBadRequest"
LLM_NOT_CONFIGURED = "LlmNotConfigured"
# Provider HTTP APIs (Todoist, Google), translated once at the client boundary.
PROVIDER_RATE_LIMITED = "ProviderRateLimited"  # 429: retried after the provider's Retry-After
PROVIDER_UNAUTHORIZED = "ProviderUnauthorized"  # 401/403: reconnect required, never retried
PROVIDER_UNAVAILABLE = "ProviderUnavailable"  # 5xx, timeouts, unreachable: retried with backoff
PROVIDER_BAD_REQUEST = "ProviderBadRequest"  # any other 4xx: a bug on our side, never retried
PROVIDER_BAD_RESPONSE = "ProviderBadResponse"  # a 2xx whose body is not the documented shape
INTEGRATION_NOT_CONNECTED = "IntegrationNotConnected"  # no usable token for (user, provider)
