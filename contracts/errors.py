"""Error type strings carried by ApplicationError and problem responses."""

USER_NOT_FOUND = "UserNotFound"
UNKNOWN_AGENT = "UnknownAgent"
UNKNOWN_KEY_ID = "UnknownKeyId"
