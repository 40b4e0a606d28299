#!/usr/bin/env python3
# Writes Sources/TallyServer/Resources/openapi.yaml (docs/openapi.yaml links to it):
#   python3 scripts/gen-openapi.py > Sources/TallyServer/Resources/openapi.yaml
# Needs PyYAML. Edit the routes and schemas here, regenerate, and run the tests:
# OpenAPIDocumentTests fails when the document and the server disagree on a route.
import yaml, collections

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
def problem_responses(*codes):
    out = {}
    texts = {"400": "Malformed request: the problem names the field (`pointer`).",
             "401": "No key, or a key that is unknown or revoked.",
             "403": "The key's role may not use this route.",
             "404": "Nothing has this id.",
             "409": "A conflict: wrong expected version, or an id already used with other fields.",
             "413": "The body is larger than the limit.",
             "415": "The body is not application/json.",
             "422": "The domain refused the command; `code` says why (docs/rejections.md).",
             "429": "Rate limited; retry after `Retry-After` seconds.",
             "503": "The ledger cannot write (read-only, full, closed), a projection lags, or the request timed out."}
    for code in codes:
        out[code] = {"$ref": f"#/components/responses/Problem{code}"}
    return out

STD_READ = ["401", "403", "429", "503"]
STD_WRITE = ["400", "401", "403", "413", "415", "429", "503"]

def op(summary, permission, tag, ok_code, ok_schema, params=None, body=None, errors=None, ok_desc="OK", extra_ok=None, content_type="application/json", description=None):
    o = {"summary": summary, "tags": [tag], "x-tally-permission": permission}
    if description: o["description"] = description
    if permission != "open":
        o["security"] = [{"bearerAuth": []}, {"tallyKey": [], "tallyTimestamp": [], "tallySignature": []}]
    else:
        o["security"] = []
    if params: o["parameters"] = params
    if body:
        o["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    responses = {}
    responses[ok_code] = {"description": ok_desc, "content": {content_type: {"schema": ok_schema}}}
    if extra_ok:
        for code, (desc, schema) in extra_ok.items():
            responses[code] = {"description": desc, "content": {content_type: {"schema": schema}}}
    for code, r in problem_responses(*(errors or [])).items():
        responses[code] = r
    o["responses"] = responses
    return o

def path_param(name, desc, fmt=None):
    schema = {"type": "string"}
    if fmt == "uuid": schema["format"] = "uuid"
    elif fmt == "id": schema = ref("ID")
    return {"name": name, "in": "path", "required": True, "description": desc, "schema": schema}

def query(name, desc, schema=None):
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema or {"type": "string"}}

LIMIT = query("limit", "At most this many items (1 to 1000, default 100).", {"type": "integer", "minimum": 1, "maximum": 1000})
MIN_POS = query("min_position", "Read your writes: wait until the view has applied this log position (503 `projection_lagging` after `wait_ms`; 400 when it is past the log head).", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615})
WAIT_MS = query("wait_ms", "How long to wait for the view, in milliseconds (default 5000 with min_position, else up to 2000 for the head; waits longer than 60000 are cut to 60000).", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615})

paths = collections.OrderedDict()
def add(path, method, o):
    paths.setdefault(path, collections.OrderedDict())[method] = o

add("/health", "get", op("Liveness: the process answers.", "open", "system", "200", ref("Status"), errors=[]))
add("/ready", "get", op("Readiness: the log is open and writable and every projection is within its lag bound.", "open", "system", "200", ref("Readiness"),
    extra_ok={"503": ("Not ready; `problems` says why.", ref("Readiness"))}))
add("/metrics", "get", op("Prometheus metrics (needs a key unless the server runs with --public-metrics).", "read", "system", "200", {"type": "string"}, errors=["401", "403", "429"], content_type="text/plain"))
add("/openapi.yaml", "get", op("This document.", "open", "system", "200", {"type": "string"}, content_type="application/yaml"))

add("/v1/streams/{stream}/events", "post", op("Append events to one stream.", "write", "events", "201", ref("AppendResult"),
    params=[path_param("stream", "The stream id.")], body=ref("AppendRequest"), errors=STD_WRITE + ["409"],
    extra_ok={"200": ("A retry: every event id was already appended with the same content; nothing new was written.", ref("AppendResult"))},
    description="Each event's `id` is its idempotency key: retry with the same ids and the answer is 200 with `duplicate: true`. The key's name becomes the event's `metadata.actor`."))
add("/v1/streams/{stream}/events", "get", op("Read one stream's events.", "read", "events", "200", ref("StreamEvents"),
    params=[path_param("stream", "The stream id."), query("from_version", "Start at this stream version.", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}),
            query("direction", "forward (default) or backward.", {"type": "string", "enum": ["forward", "backward"]}), LIMIT], errors=["400"] + STD_READ))
add("/v1/events", "post", op("Append to several streams atomically: all or none.", "write", "events", "201", ref("AppendResult"),
    body=ref("MultiAppendRequest"), errors=STD_WRITE + ["409"],
    extra_ok={"200": ("A retry of an append that committed.", ref("AppendResult"))}))
add("/v1/events", "get", op("Read the global log by position, optionally one category or type.", "read", "events", "200", ref("LogPage"),
    params=[query("from_position", "Start at this position (default 1).", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}), LIMIT,
            query("category", "Only streams of this category (the stream id up to its first '-')."), query("type", "Only events of this type (filters within the page).")],
    errors=["400"] + STD_READ))
add("/v1/events/{id}", "get", op("One event by id.", "read", "events", "200", ref("Event"), params=[path_param("id", "The event id.", "uuid")], errors=["400", "404"] + STD_READ))
add("/v1/subscribe", "get", op("Follow the log as server-sent events.", "read", "events", "200",
    {"type": "object", "properties": {"id": {"type": "string", "description": "The event's position."}, "event": {"type": "string", "description": "The event type."},
     "data": {"type": "string", "description": "The event as JSON (the Event schema)."}, "retry": {"type": "string"}}}, content_type="text/event-stream",
    params=[query("from_position", "Start at this position (default 1).", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}),
            query("category", "Only this category."), query("type", "Only this event type."),
            query("max_events", "End the stream after this many events.", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}),
            {"name": "Last-Event-ID", "in": "header", "required": False, "description": "Resume after this position (each event's SSE id is its position).", "schema": {"type": "string"}}],
    errors=["400"] + STD_READ,
    description="Each event is `id: <position>`, `event: <type>`, `data: <the event as JSON>`. A comment line keeps idle connections open every 15 s. The stream ends when the server shuts down; reconnect with `Last-Event-ID`."))

add("/v1/accounts", "post", op("Open an account.", "write", "payments", "201", ref("AccountCommandResult"), body=ref("OpenAccount"),
    errors=STD_WRITE + ["409", "422"], extra_ok={"200": ("The same account was already open (a retry).", ref("AccountCommandResult"))}))
add("/v1/accounts/{id}", "get", op("An account with its balances.", "read", "payments", "200", ref("Account"), params=[path_param("id", "The account id.", "id")], errors=["400", "404"] + STD_READ))
add("/v1/accounts/{id}/close", "post", op("Close an account.", "write", "payments", "201", ref("AccountCommandResult"), params=[path_param("id", "The account id.", "id")],
    errors=STD_WRITE + ["422"], extra_ok={"200": ("Already closed.", ref("AccountCommandResult"))}))
add("/v1/agents/{agent}/accounts", "get", op("The accounts an agent owns.", "read", "payments", "200", ref("AgentAccounts"), params=[path_param("agent", "The agent id.", "id")], errors=["400"] + STD_READ))
add("/v1/accounts/{id}/statement", "get", op("An account's postings with the balance after each.", "read", "payments", "200", ref("Statement"),
    params=[path_param("id", "The account id.", "id"), query("from_position", "From this log position.", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}), LIMIT, MIN_POS, WAIT_MS], errors=["400"] + STD_READ))
add("/v1/accounts/{id}/balance", "get", op("An account's balance now, at a log position, or at a time.", "read", "payments", "200", ref("Balance"),
    params=[path_param("id", "The account id.", "id"), query("at_position", "The balance right after this position.", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}),
            query("at_time", "The balance as of this RFC 3339 time.", {"type": "string", "format": "date-time"}), MIN_POS, WAIT_MS], errors=["400", "404"] + STD_READ))
add("/v1/transfers", "post", op("Submit transfers: a batch with one result per item (linked: all or none).", "write", "payments", "200", ref("BatchResult"),
    body=ref("TransferBatch"), errors=STD_WRITE,
    description="Rejections are per item (`results[i].code`), like TigerBeetle's create_transfers; the request itself succeeds. Each transfer id is its idempotency key forever."))
add("/v1/transfers/{id}", "get", op("A transfer.", "read", "payments", "200", ref("Transfer"), params=[path_param("id", "The transfer id.", "id")], errors=["400", "404"] + STD_READ))
for action, summary, body in [("commit", "Post a pending transfer: all of it, or `amount` of it.", ref("CommitPending")),
                              ("void", "Release a pending transfer.", None),
                              ("reverse", "Reverse a posted transfer with a compensating transfer.", ref("Reverse"))]:
    add(f"/v1/transfers/{{id}}/{action}", "post", op(summary, "write", "payments", "201", ref("TransferCommandResult"),
        params=[path_param("id", "The transfer id.", "id")], body=body, errors=STD_WRITE + ["409", "422"],
        extra_ok={"200": ("Already done (a retry).", ref("TransferCommandResult"))}))

add("/v1/deployments", "post", op("Start a deployment (the key is the deployer of record).", "write", "operations", "201", ref("DeploymentCommandResult"),
    body=ref("StartDeployment"), errors=STD_WRITE + ["409", "422"], extra_ok={"200": ("The same deployment was already started.", ref("DeploymentCommandResult"))}))
add("/v1/deployments", "get", op("Deployments, optionally of one service.", "read", "operations", "200", ref("Deployments"), params=[query("service", "Only this service.")], errors=["400"] + STD_READ))
add("/v1/deployments/{id}", "get", op("A deployment.", "read", "operations", "200", ref("Deployment"), params=[path_param("id", "The deployment id.", "id")], errors=["400", "404"] + STD_READ))
for action, summary, body in [("succeed", "Mark a deployment succeeded.", ref("SucceedDeployment")),
                              ("fail", "Mark a deployment failed.", ref("FailDeployment")),
                              ("rollback", "Record a rollback.", ref("RollBackDeployment"))]:
    add(f"/v1/deployments/{{id}}/{action}", "post", op(summary, "write", "operations", "201", ref("DeploymentCommandResult"),
        params=[path_param("id", "The deployment id.", "id")], body=body, errors=STD_WRITE + ["422"]))
for action, summary, body in [("scale", "Record a scaling of a service.", ref("ScaleService")),
                              ("config", "Record a configuration change (values are hashed, never stored).", ref("ChangeConfig")),
                              ("migrations", "Record a migration (once per service).", ref("ApplyMigration"))]:
    add(f"/v1/services/{{service}}/{action}", "post", op(summary, "write", "operations", "201", ref("CommandResult"),
        params=[path_param("service", "The service id.", "id")], body=body, errors=STD_WRITE + ["422"]))
add("/v1/services/{service}/deployments", "get", op("A service's deployment history in one environment.", "read", "operations", "200", ref("DeploymentHistory"),
    params=[path_param("service", "The service id.", "id"), query("environment", "The environment (default prod)."), LIMIT, MIN_POS, WAIT_MS], errors=["400"] + STD_READ))
add("/v1/services/{service}/dora", "get", op("DORA figures of a service in one environment.", "read", "operations", "200", ref("DORA"),
    params=[path_param("service", "The service id.", "id"), query("environment", "The environment (default prod)."),
            query("window_days", "The window in days (1 to 3650, default 30).", {"type": "integer", "minimum": 1, "maximum": 3650}), MIN_POS, WAIT_MS], errors=["400"] + STD_READ))
add("/v1/health-checks", "post", op("Report a component's health.", "write", "operations", "201", ref("CommandResult"), body=ref("HealthCheck"), errors=STD_WRITE + ["422"]))
add("/v1/components", "get", op("Every component's current health.", "read", "operations", "200", ref("Components"), params=[MIN_POS, WAIT_MS], errors=["400"] + STD_READ))
add("/v1/components/{component}/incidents", "get", op("A component's incidents and 30-day uptime.", "read", "operations", "200", ref("Incidents"),
    params=[path_param("component", "The component id.", "id"), MIN_POS, WAIT_MS], errors=["400"] + STD_READ))

add("/v1/audit/events", "get", op("Query the audit view by actor, type, category and time.", "read", "audit", "200", ref("AuditPage"),
    params=[query("actor", "Only this actor."), query("type", "Only this event type."), query("category", "Only this category."),
            query("since", "From this RFC 3339 time.", {"type": "string", "format": "date-time"}), query("until", "Up to this RFC 3339 time.", {"type": "string", "format": "date-time"}),
            query("after_position", "Page after this position.", {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}), LIMIT, MIN_POS, WAIT_MS], errors=["400"] + STD_READ))
add("/v1/audit/exports", "post", op("Export events (JSONL or CSV) with a verifiable manifest.", "audit", "audit", "201", ref("ExportCreated"), body=ref("ExportRequest"), errors=STD_WRITE))
add("/v1/audit/exports/{id}", "get", op("Download an export's file (streamed).", "audit", "audit", "200", {"type": "string"}, content_type="application/jsonl",
    params=[path_param("id", "The export id.", "uuid")], errors=["400", "404"] + STD_READ))
add("/v1/audit/exports/{id}/manifest", "get", op("An export's manifest (checksums, seals, range).", "audit", "audit", "200", {"type": "object"},
    params=[path_param("id", "The export id.", "uuid")], errors=["400", "404"] + STD_READ))

add("/v1/admin/keys", "get", op("List API keys (never their secrets).", "admin", "admin", "200", ref("Keys"), errors=STD_READ))
add("/v1/admin/keys", "post", op("Create an API key; the secret is in this response only.", "admin", "admin", "201", ref("KeyCreated"), body=ref("CreateKey"), errors=STD_WRITE + ["409"]))
add("/v1/admin/keys/{id}", "delete", op("Revoke an API key (by id or name).", "admin", "admin", "200", ref("Key"), params=[path_param("id", "The key id or name.")], errors=["404"] + STD_READ))
add("/v1/admin/verify", "post", op("Verify every checksum, seal and index entry of the log.", "admin", "admin", "200", ref("VerifyReport"), errors=STD_READ,
    extra_ok={"409": ("Verification found a problem (named with its position).", ref("VerifyReport"))}))
add("/v1/admin/projections", "get", op("Each projection's checkpoint, lag and failure.", "admin", "admin", "200", ref("Projections"), errors=STD_READ))
add("/v1/admin/stats", "get", op("Log statistics: head, events, streams, bytes, chain and seal heads.", "admin", "admin", "200", ref("Stats"), errors=STD_READ))
add("/v1/admin/backups", "post", op("Take a hot backup into the server's backup root: full, or incremental with `since`.", "admin", "admin", "201", ref("BackupCreated"),
    body=ref("BackupRequest"), errors=STD_WRITE + ["404", "409", "422"], ok_desc="Created",
    description="Writers keep going; the copy is one consistent snapshot. `name` and `since` name directories under `--backup-root`. Check or restore the result with `tally backup verify` and `tally restore` (docs/operations.md)."))
add("/v1/admin/backups", "get", op("The backups under the server's backup root, oldest first.", "admin", "admin", "200", ref("Backups"), errors=STD_READ))
add("/v1/admin/snapshots", "post", op("Take a snapshot of the views (replay and restore start from the newest matching one).", "admin", "admin", "201", ref("SnapshotCreated"),
    errors=STD_READ, ok_desc="Created"))

S = lambda **kw: dict(kw)
string = {"type": "string"}
integer = {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}
amount = {"type": "string", "pattern": "^[0-9]+$", "description": "Minor units, a string of digits."}
signed = {"type": "string", "pattern": "^-?[0-9]+$", "description": "Minor units (may be negative), a string of digits."}
time = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC, nanoseconds."}
def nullable(schema):
    # The server reads an optional field given as null as absent; the document says so.
    if "$ref" in schema or "oneOf" in schema or "anyOf" in schema: return {"anyOf": [schema, {"type": "null"}]}
    s = dict(schema)
    t = s.get("type")
    if isinstance(t, str): s["type"] = [t, "null"]
    return s
def obj(props, required=(), extra=False, desc=None):
    props = {k: (v if k in required else nullable(v)) for k, v in props.items()}
    o = {"type": "object", "properties": props}
    if required: o["required"] = list(required)
    if not extra: o["additionalProperties"] = False
    if desc: o["description"] = desc
    return o
def arr(items): return {"type": "array", "items": items}
amount_in = {"oneOf": [amount, {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}], "description": "Minor units: a string of digits (or a JSON integer, read digit for digit)."}

schemas = collections.OrderedDict()
schemas["BackupRequest"] = obj({"name": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$", "description": "The new backup's directory under the backup root."},
    "since": {"type": "string", "description": "An earlier backup under the root: makes this one incremental (a log segment)."}}, ["name"])
schemas["BackupCreated"] = obj({"name": string, "id": string, "kind": {"type": "string", "enum": ["full", "incremental"]}, "first_position": integer, "head_position": integer,
    "chain_head": string, "seal_head": string, "bytes": integer}, ["name", "id", "kind", "first_position", "head_position", "chain_head", "seal_head", "bytes"])
schemas["Backups"] = obj({"backups": arr(obj({"name": string, "id": string, "kind": {"type": "string", "enum": ["full", "incremental"]}, "created_at": time,
    "first_position": integer, "head_position": integer, "bytes": integer}, ["name", "id", "kind", "created_at", "first_position", "head_position", "bytes"]))}, ["backups"])
schemas["SnapshotCreated"] = obj({"name": string, "position": integer, "log_position": integer, "bytes": integer}, ["name", "position", "log_position", "bytes"])
schemas["ID"] = {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$", "description": "A client-chosen id: 1 to 64 of A-Z a-z 0-9 . _ : -"}
schemas["Problem"] = obj({"type": string, "title": string, "status": {"type": "integer"}, "code": {"type": "string", "description": "The stable code (docs/rejections.md)."},
    "detail": {"type": "string", "description": "What went wrong and what to do."}, "pointer": {"type": "string", "description": "JSON path of the field to blame."}, "instance": string},
    ["type", "title", "status", "code", "detail"], desc="RFC 9457 problem details.")
schemas["Status"] = obj({"status": string}, ["status"])
schemas["Readiness"] = obj({"status": {"type": "string", "enum": ["ready", "not_ready"]}, "head_position": integer, "writable": {"type": "boolean"},
    "projections": arr(obj({"name": string, "checkpoint": integer, "lag_events": integer, "lag_seconds": {"type": "number"}})), "problems": arr(string)},
    ["status", "head_position", "writable", "projections", "problems"])
schemas["ProposedEvent"] = obj({"id": {"type": "string", "format": "uuid", "description": "Idempotency key; reuse it when retrying. When omitted the server makes a time-ordered (version 7) UUID, so a retry of a request without ids appends again."},
    "type": {"type": "string", "description": "Lowercase dotted, e.g. task.completed."}, "payload": {"description": "Any JSON value, stored as sent."},
    "metadata": {"type": "object", "additionalProperties": {"type": "string"}, "description": "correlation_id, causation_id and free keys; actor is set by the server."}},
    ["type", "payload"])
expected = {"oneOf": [{"type": "string", "enum": ["any", "no_stream", "no-stream"]}, {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}, {"type": "string", "pattern": "^[0-9]+$"}],
            "description": "any (default), no_stream, or the stream's current last version."}
schemas["AppendRequest"] = obj({"expected_version": expected, "events": {**arr(ref("ProposedEvent")), "minItems": 1}}, ["events"])
schemas["MultiAppendRequest"] = obj({"appends": {**arr(obj({"stream": string, "expected_version": expected, "events": {**arr(ref("ProposedEvent")), "minItems": 1}}, ["stream", "events"])), "minItems": 1}}, ["appends"])
schemas["AppendResult"] = obj({"positions": arr(integer), "stream_versions": arr(integer), "first_position": integer, "last_position": integer, "duplicate": {"type": "boolean"}},
    ["positions", "stream_versions", "first_position", "last_position", "duplicate"])
schemas["Event"] = obj({"position": integer, "stream": string, "stream_version": integer, "id": {"type": "string", "format": "uuid"}, "type": string, "recorded_at": time,
    "metadata": {"type": "object", "additionalProperties": {"type": "string"}}, "payload": {"description": "The payload as stored (JSON)."},
    "payload_base64": {"type": "string", "description": "Set instead of payload when the stored bytes are not JSON."},
    "checksum": {"type": "string", "description": "XXH3-64 of the record, 16 hex digits."}, "previous_checksum": string},
    ["position", "stream", "stream_version", "id", "type", "recorded_at", "metadata", "checksum", "previous_checksum"])
schemas["StreamEvents"] = obj({"stream": string, "events": arr(ref("Event"))}, ["stream", "events"])
schemas["LogPage"] = obj({"events": arr(ref("Event")), "next_position": integer, "head_position": integer}, ["events", "head_position"])
schemas["OpenAccount"] = obj({"id": ref("ID"), "agent": ref("ID"), "currency": {"type": "string", "pattern": "^[A-Z0-9]{2,8}$"},
    "flags": arr({"type": "string", "enum": ["debits_must_not_exceed_credits", "credits_must_not_exceed_debits"]}), "external_reference": string}, ["id", "agent", "currency"])
schemas["Account"] = obj({"id": string, "agent": string, "currency": string, "flags": arr(string), "external_reference": string, "closed": {"type": "boolean"},
    "debits_posted": amount, "credits_posted": amount, "debits_pending": amount, "credits_pending": amount, "balance": signed, "available": signed},
    ["id", "agent", "currency", "flags", "closed", "debits_posted", "credits_posted", "debits_pending", "credits_pending", "balance", "available"])
schemas["CommandResult"] = obj({"code": {"type": "string", "description": "ok, or the code of an earlier identical command."}, "events": arr(string)}, ["code"], extra=True)
schemas["AccountCommandResult"] = obj({"code": string, "events": arr(string), "account": ref("Account")}, ["code"])
schemas["AgentAccounts"] = obj({"agent": string, "accounts": arr(ref("Account"))}, ["agent", "accounts"])
schemas["Statement"] = obj({"account": string, "as_of_position": integer, "lines": arr(obj({"position": integer, "transfer": string, "side": {"type": "string", "enum": ["debit", "credit"]},
    "amount": amount, "balance_after": signed, "recorded_at": time}))}, ["account", "as_of_position", "lines"])
schemas["Balance"] = obj({"account": string, "currency": string, "position": integer, "debits_posted": amount, "credits_posted": amount, "debits_pending": amount,
    "credits_pending": amount, "balance": signed}, ["account", "currency", "position", "debits_posted", "credits_posted", "balance"])
schemas["TransferRequest"] = obj({"id": ref("ID"), "debit_account": ref("ID"), "credit_account": ref("ID"), "amount": amount_in,
    "currency": {"type": "string", "pattern": "^[A-Z0-9]{2,8}$"}, "memo": string, "external_reference": string,
    "timeout_ms": {"type": "integer", "minimum": 1, "description": "Makes the transfer pending (escrow) until committed, voided or this long has passed."}},
    ["id", "debit_account", "credit_account", "amount", "currency"])
schemas["TransferBatch"] = obj({"linked": {"type": "boolean", "description": "All succeed or none is applied."}, "transfers": {**arr(ref("TransferRequest")), "minItems": 1, "maxItems": 10000}}, ["transfers"])
schemas["ItemResult"] = obj({"index": integer, "code": string, "message": string, "events": arr(string)}, ["index", "code"])
schemas["BatchResult"] = obj({"linked": {"type": "boolean"}, "applied": integer, "failed": integer, "results": arr(ref("ItemResult"))}, ["linked", "applied", "failed", "results"])
schemas["Transfer"] = obj({"id": string, "kind": {"type": "string", "enum": ["posted", "pending", "reversal"]}, "state": {"type": "string", "enum": ["posted", "pending", "committed", "voided", "expired"]},
    "debit_account": string, "credit_account": string, "amount": amount, "currency": string, "memo": string, "external_reference": string, "expires_at": time,
    "reversal_of": string, "committed_amount": amount, "reversed_amount": amount, "posted_amount": amount},
    ["id", "kind", "state", "debit_account", "credit_account", "amount", "currency", "reversed_amount", "posted_amount"])
schemas["TransferCommandResult"] = obj({"code": string, "events": arr(string), "transfer": ref("Transfer")}, ["code"])
schemas["CommitPending"] = obj({"amount": amount_in})
schemas["Reverse"] = obj({"reversal_id": ref("ID"), "amount": amount_in, "memo": string}, ["reversal_id"])
schemas["StartDeployment"] = obj({"id": ref("ID"), "service": ref("ID"), "version": string, "environment": ref("ID"),
    "strategy": {"type": "string", "enum": ["rolling", "blue_green", "canary", "recreate"]}, "reason": string}, ["id", "service", "version", "environment"])
schemas["Deployment"] = obj({"id": string, "service": string, "version": string, "environment": string, "strategy": string, "actor": string, "reason": string,
    "started_at": time, "state": {"type": "string", "enum": ["started", "succeeded", "failed", "rolled_back"]}, "duration_ms": integer, "failure_reason": string, "rolled_back_to": string},
    ["id", "service", "version", "environment", "strategy", "actor", "started_at", "state"])
schemas["DeploymentCommandResult"] = obj({"code": string, "events": arr(string), "deployment": ref("Deployment")}, ["code"])
schemas["Deployments"] = obj({"deployments": arr(ref("Deployment"))}, ["deployments"])
schemas["SucceedDeployment"] = obj({"duration_ms": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}})
schemas["FailDeployment"] = obj({"reason": string}, ["reason"])
schemas["RollBackDeployment"] = obj({"to_version": string, "reason": string}, ["to_version", "reason"])
schemas["ScaleService"] = obj({"environment": ref("ID"), "from": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}, "to": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}}, ["environment", "from", "to"])
schemas["ChangeConfig"] = obj({"environment": ref("ID"), "key": string, "old_value": string, "new_value": string,
    "old_digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "new_digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}, ["environment", "key"])
schemas["ApplyMigration"] = obj({"migration": ref("ID")}, ["migration"])
schemas["DeploymentRecord"] = obj({"id": string, "service": string, "environment": string, "version": string, "actor": string, "started_at": time, "state": string,
    "finished_at": time, "duration_ms": integer, "rolled_back_to": string}, ["id", "service", "environment", "version", "actor", "started_at", "state"])
schemas["DeploymentHistory"] = obj({"service": string, "environment": string, "as_of_position": integer, "deployments": arr(ref("DeploymentRecord"))},
    ["service", "environment", "as_of_position", "deployments"])
schemas["DORA"] = obj({"service": string, "environment": string, "window_days": integer, "as_of_position": integer, "deployments": integer,
    "deployments_per_day": {"type": "number"}, "lead_time_seconds": {"type": "number"}, "change_failure_rate": {"type": "number"}, "time_to_restore_seconds": {"type": "number"}},
    ["service", "environment", "window_days", "as_of_position", "deployments", "deployments_per_day"])
schemas["HealthCheck"] = obj({"component": ref("ID"), "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]}, "latency_ms": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615},
    "detail": {"type": "string", "maxLength": 1024}}, ["component", "status"])
schemas["Components"] = obj({"as_of_position": integer, "components": arr(obj({"component": string, "status": string, "since": time, "last_check": time, "last_latency_ms": integer}))},
    ["as_of_position", "components"])
schemas["Incidents"] = obj({"component": string, "as_of_position": integer, "uptime_30d": {"type": "number"},
    "incidents": arr(obj({"component": string, "start": time, "end": time, "worst": string}))}, ["component", "as_of_position", "incidents"])
schemas["AuditPage"] = obj({"as_of_position": integer, "events": arr(ref("Event")), "next_after_position": integer}, ["as_of_position", "events"])
schemas["ExportRequest"] = obj({"format": {"type": "string", "enum": ["jsonl", "csv"]}, "from_position": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}, "to_position": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615},
    "since": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"}, "stream": string, "category": string, "actor": string,
    "types": arr(string), "with_proof": {"type": "boolean"}})
schemas["ExportCreated"] = obj({"id": {"type": "string", "format": "uuid"}, "file": string, "manifest_url": string, "manifest": {"type": "object"}}, ["id", "file", "manifest_url", "manifest"])
schemas["Key"] = obj({"id": string, "name": string, "role": {"type": "string", "enum": ["reader", "writer", "auditor", "admin"]}, "created_at": time, "revoked": {"type": "boolean"}},
    ["id", "name", "role", "created_at", "revoked"])
schemas["Keys"] = obj({"keys": arr(ref("Key"))}, ["keys"])
schemas["CreateKey"] = obj({"name": ref("ID"), "role": {"type": "string", "enum": ["reader", "writer", "auditor", "admin"]}}, ["name", "role"])
schemas["KeyCreated"] = obj({"secret": {"type": "string", "description": "The key; shown only here."}, "key": ref("Key")}, ["secret", "key"])
schemas["VerifyReport"] = obj({"records_checked": integer, "seals_checked": integer, "index_entries_checked": integer, "head_position": integer,
    "first_bad_position": integer, "reason": string}, ["records_checked", "seals_checked", "index_entries_checked", "head_position"], extra=True)
schemas["Projections"] = obj({"projections": arr(obj({"name": string, "version": integer, "checkpoint": integer, "head": integer, "lag_events": integer,
    "lag_seconds": {"type": "number"}, "failure": string}))}, ["projections"])
schemas["Stats"] = obj({"head_position": integer, "events": integer, "streams": integer, "bytes": integer, "chain_head": string, "seal_head": string,
    "index_checkpoint": integer, "subscribers": integer}, ["head_position", "events", "streams", "bytes", "chain_head", "seal_head", "index_checkpoint", "subscribers"])

responses = collections.OrderedDict()
texts = {"400": "Malformed request: the problem names the field (`pointer`).",
         "401": "No key, or a key that is unknown or revoked.",
         "403": "The key's role may not use this route.",
         "404": "Nothing has this id.",
         "409": "A conflict: wrong expected version, or an id already used with other fields.",
         "413": "The body is larger than the limit.",
         "415": "The body is not application/json.",
         "422": "The domain refused the command; `code` says why (docs/rejections.md).",
         "429": "Rate limited; retry after `Retry-After` seconds.",
         "503": "The ledger cannot write (read-only, full, closed), a projection lags, or the request timed out."}
for code, text in texts.items():
    responses[f"Problem{code}"] = {"description": text, "content": {"application/problem+json": {"schema": ref("Problem")}}}

doc = collections.OrderedDict()
doc["openapi"] = "3.1.0"
doc["info"] = {"title": "Tally HTTP API", "version": "1.0.0",
    "description": "The HTTP API of Tally, an event-sourced ledger for fleets of autonomous agents (`tally serve`). "
                   "JSON in snake_case; amounts are strings of digits in minor units; times are RFC 3339 in UTC. "
                   "Every error is RFC 9457 problem details with a stable `code`. "
                   "Roles: reader (queries, subscribe), writer (reader + appends and commands), auditor (reader + audit exports), admin (everything). "
                   "Each operation's `x-tally-permission` names what it needs: open, read, write, audit or admin."}
doc["servers"] = [{"url": "http://127.0.0.1:8080"}]
doc["security"] = [{"bearerAuth": []}, {"tallyKey": [], "tallyTimestamp": [], "tallySignature": []}]
doc["tags"] = [{"name": n} for n in ["system", "events", "payments", "operations", "audit", "admin"]]
doc["paths"] = paths
doc["components"] = {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "An API key from `tally keys create` or POST /v1/admin/keys: `tally_<id>_<secret>`."},
    "tallyKey": {"type": "apiKey", "in": "header", "name": "X-Tally-Key", "description": "Signed requests: the key id (the 12 hex digits after `tally_`)."},
    "tallyTimestamp": {"type": "apiKey", "in": "header", "name": "X-Tally-Timestamp", "description": "Signed requests: Unix seconds; refused more than 300 s from the server's clock (`signature_expired`)."},
    "tallySignature": {"type": "apiKey", "in": "header", "name": "X-Tally-Signature", "description": "Signed requests: hex HMAC-SHA256 with the key's signing secret (printed by `tally keys create`) over METHOD\\nPATH?QUERY\\nTIMESTAMP\\nhex SHA-256 of the body. A signature seen before is refused (`replayed_request`)."}},
                     "responses": responses, "schemas": schemas}

def to_plain(x):
    if isinstance(x, dict): return {k: to_plain(v) for k, v in x.items()}
    if isinstance(x, list): return [to_plain(v) for v in x]
    return x
class D(yaml.SafeDumper):
    def ignore_aliases(self, data): return True
D.add_representer(collections.OrderedDict, lambda d, data: d.represent_dict(data.items()))
D.add_representer(dict, lambda d, data: d.represent_dict(data.items()))
import sys
sys.stdout.write("# Tally HTTP API (OpenAPI 3.1). Served by `tally serve` at /openapi.yaml.\n# A test fails when a route is missing here or this names a route the server lacks.\n")
sys.stdout.write(yaml.dump(doc, Dumper=D, sort_keys=False, width=140, allow_unicode=True))
