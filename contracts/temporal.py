"""Temporal names shared by the api, worker, cli and tests: task queues, search attributes, ids."""

from uuid import UUID

# The main task queue is a setting (OO_TASK_QUEUE, default "oo"); LLM calls get their own
# queue beside it ("oo-llm") so that their concurrency is capped independently.
LLM_QUEUE_SUFFIX = "-llm"


def llm_task_queue(task_queue: str) -> str:
    return f"{task_queue}{LLM_QUEUE_SUFFIX}"


SEARCH_ATTRIBUTE_USER_ID = "OoUserId"
SEARCH_ATTRIBUTE_AGENT_ID = "OoAgentId"
SEARCH_ATTRIBUTES = (SEARCH_ATTRIBUTE_USER_ID, SEARCH_ATTRIBUTE_AGENT_ID)

# Activity names, so that workflows reference activities without importing their modules.
LOAD_TOKEN_STATE = "load_token_state"
REFRESH_TOKEN = "refresh_token"
CHECK_TOKEN = "check_token"
REVOKE_TOKEN = "revoke_token"
FORGET_TOKEN = "forget_token"
MARK_DELETING = "mark_deleting"
STOP_USER_WORKFLOWS = "stop_user_workflows"
LIST_USER_PROVIDERS = "list_user_providers"
DELETE_USER_ROWS = "delete_user_rows"
DELETE_USER_HISTORIES = "delete_user_histories"
DESTROY_DATA_KEY = "destroy_data_key"
WRITE_DELETION_AUDIT = "write_deletion_audit"
VERIFY_ERASED = "verify_erased"
LOAD_TIP_CONTEXT = "load_tip_context"
COMPUTE_AGENT_SNIPPET = "compute_agent_snippet"
COMPOSE_TIP = "compose_tip"
STORE_TIP = "store_tip"
GENERATE_TIP_TEXT = "generate_tip_text"
LIST_DUE_USERS = "list_due_users"
COMPUTE_AGENT_BATCH = "compute_agent_batch"
LIST_ELIGIBLE_AGENTS = "list_eligible_agents"
SYNC_TODOIST_HISTORY = "sync_todoist_history"


def agent_sweep_id(agent_id: str) -> str:
    """The schedule (and workflow id prefix) of an agent's periodic sweep."""
    return f"agent-sweep-{agent_id}"


def account_deletion_workflow_id(user_id: UUID) -> str:
    return f"account-deletion-{user_id}"


def recompute_workflow_id(user_id: UUID) -> str:
    return f"recompute-{user_id}"


def token_refresh_workflow_id(user_id: UUID, provider: str) -> str:
    return f"token-refresh-{user_id}-{provider}"


def tip_workflow_id(user_id: UUID) -> str:
    """Business key of a user's tip generation: concurrent requests join one run."""
    return f"tip-{user_id}"
