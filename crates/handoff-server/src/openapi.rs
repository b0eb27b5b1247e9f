//! The OpenAPI 3.1 document of this server (`GET /v1/openapi.json`), built by code from what
//! the server enforces, so the two cannot drift apart:
//!
//! - lengths, counts and patterns come from the constants and rules the validators use
//!   (`handoff_core::validate::limits`, the protocol constants, this server's [`Config`]);
//! - enums come from the types (`ApiErrorCode`, `Role`), with a compile-time check that
//!   every error code is listed;
//! - every operation lists the refusals it can answer with, and their HTTP statuses come from
//!   [`status_for`], the function the error responses use;
//! - the operations are the ones the router serves (a test compares them with
//!   [`crate::routes::ROUTES`]).
//!
//! Shapes of bodies are written here beside the limits; `cargo xtask apifuzz` (schemathesis
//! over a real server) proves them against the server: every answer must match its schema,
//! requests the schema allows must be accepted and requests it forbids refused.

use std::collections::BTreeMap;

use handoff_core::Role;
use handoff_core::protocol::{ApiErrorCode, MAX_PUSH_BATCH, PROTOCOL_HEADER, PROTOCOL_VERSION};
use handoff_core::validate::limits;
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::status_for;

/// Every error code, in the order of the enum.
pub const ALL_CODES: [ApiErrorCode; 18] = [
    ApiErrorCode::Invalid,
    ApiErrorCode::MalformedRequest,
    ApiErrorCode::Unauthorized,
    ApiErrorCode::TokenExpired,
    ApiErrorCode::TokenRevoked,
    ApiErrorCode::Forbidden,
    ApiErrorCode::NotFound,
    ApiErrorCode::UpgradeRequired,
    ApiErrorCode::MutationGap,
    ApiErrorCode::TooLarge,
    ApiErrorCode::RateLimited,
    ApiErrorCode::HashMismatch,
    ApiErrorCode::BlobsMissing,
    ApiErrorCode::InviteInvalid,
    ApiErrorCode::AlreadyExists,
    ApiErrorCode::Internal,
    ApiErrorCode::QuotaExceeded,
    ApiErrorCode::LastOwner,
];

/// The reasons a client may give for withdrawing a mutation (`push::check_shape` refuses others).
const WITHDRAWAL_CODES: [ApiErrorCode; 3] = [ApiErrorCode::TooLarge, ApiErrorCode::BlobsMissing, ApiErrorCode::NotFound];

/// The position of `code` in [`ALL_CODES`]. No wildcard arm: a new code fails to compile
/// here until it is listed.
const fn code_index(code: ApiErrorCode) -> usize {
    use ApiErrorCode::*;
    match code {
        Invalid => 0,
        MalformedRequest => 1,
        Unauthorized => 2,
        TokenExpired => 3,
        TokenRevoked => 4,
        Forbidden => 5,
        NotFound => 6,
        UpgradeRequired => 7,
        MutationGap => 8,
        TooLarge => 9,
        RateLimited => 10,
        HashMismatch => 11,
        BlobsMissing => 12,
        InviteInvalid => 13,
        AlreadyExists => 14,
        Internal => 15,
        QuotaExceeded => 16,
        LastOwner => 17,
    }
}

/// The wire name of a serializable unit value (an enum variant).
fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// What the request carries.
enum Body {
    /// Nothing.
    None,
    /// JSON of this schema (answers `malformed_request` when it does not parse, `too_large`
    /// over the server's body limit).
    Json(Value),
    /// Raw bytes.
    Bytes,
}

/// One operation of the API.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    /// Under `/v1`: needs the protocol header.
    versioned: bool,
    /// Needs `Authorization: Bearer <token>`.
    auth: bool,
    /// Path and header parameters besides the protocol header.
    params: Vec<Value>,
    body: Body,
    /// Answers other than refusals: status and response object.
    answers: Vec<(u16, Value)>,
    /// The refusals the operation itself can answer with (those of the protocol gate, the
    /// token check, the body reader and the request slots are added).
    refusals: Vec<ApiErrorCode>,
    /// Refusals a request the schemas allow can still get, for reasons a schema cannot state
    /// (an invite code that does not exist, content that does not hash to its address).
    /// Listed as `x-handoff-valid-request-refusals`; the API fuzzer allows only these.
    valid_refusals: Vec<ApiErrorCode>,
}

/// The characters Rust's `str::trim` removes (Unicode White_Space), as a regex class body.
const TRIMMED: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (`char::is_control`), refused inside names and emails.
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A string `validate::one_line` accepts: not blank, no control character once trimmed,
/// at most `limit` characters.
fn one_line(limit: usize, description: &str) -> Value {
    let ws = format!("[{TRIMMED}]");
    let solid = format!("[^{CONTROL} \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]");
    let inner = format!("[^{CONTROL}]");
    let pattern = format!("^{ws}*{solid}(?:{inner}*{solid})?{ws}*$");
    json!({"type": "string", "minLength": 1, "maxLength": limit, "pattern": pattern, "description": description})
}

/// An email as `validate::email` accepts it: one line, `name@domain`, no white space inside.
fn email() -> Value {
    let ws = format!("[{TRIMMED}]");
    let part = format!("[^@\\s{CONTROL}\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+");
    json!({
        "type": "string",
        "minLength": 3,
        "maxLength": limits::EMAIL_CHARS,
        "pattern": format!("^{ws}*{part}@{part}{ws}*$"),
        "description": "name@domain; compared trimmed and lowercased",
    })
}

/// The forms `uuid::Uuid::parse_str` reads (ids are UUIDv7, sent hyphenated and lowercase).
fn uuid() -> Value {
    let h = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    json!({
        "type": "string",
        "minLength": 32,
        "maxLength": 45,
        "pattern": format!("^(?:{h}|[0-9a-fA-F]{{32}}|\\{{{h}\\}}|urn:uuid:{h})$"),
        "description": "a UUID (ids are UUIDv7, written hyphenated in lowercase)",
    })
}

/// A lowercase hex sha256, as `validate::sha256_hex` accepts it. The lengths keep a
/// trailing newline (which `$` would allow) out.
fn sha256() -> Value {
    json!({"type": "string", "minLength": 64, "maxLength": 64, "pattern": "^[0-9a-f]{64}$", "description": "lowercase hex sha256"})
}

fn uint(max: u64) -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": max})
}

fn timestamp() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX, "description": "milliseconds since the Unix epoch, UTC"})
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_answer(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn path_param(name: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

/// The schemas shared by several operations.
fn schemas(config: &Config) -> Value {
    let roles: Vec<Value> = Role::ALL.iter().map(wire).collect();
    let codes: Vec<Value> = ALL_CODES.iter().map(wire).collect();
    let scope_pattern = {
        let h = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
        format!(
            "^(?:workspace|spec):(?:{h}|[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}|[0-9a-fA-F]{{32}}|\\{{{h}\\}}|urn:uuid:{h})$"
        )
    };
    let scope =
        json!({"type": "string", "pattern": scope_pattern, "maxLength": 55, "description": "workspace:<id> or spec:<id>"});
    json!({
        "ApiError": object(json!({
            "code": {"type": "string", "enum": codes, "description": "stable; clients match on it, never on the message"},
            "message": {"type": "string", "description": "a sentence for people"},
        }), &["code", "message"]),
        "Role": {"type": "string", "enum": roles},
        "Hlc": object(json!({"wall_ms": uint(u64::MAX), "counter": uint(u32::MAX.into())}), &["wall_ms", "counter"]),
        "Scope": scope,
        "JoinRequest": object(json!({
            "invite_code": {"type": "string", "description": "the one-time code (trimmed)"},
            "email": email(),
            "display_name": one_line(limits::NAME_CHARS, "the name shown to others"),
            "password": {
                "type": "string",
                "minLength": 8,
                "maxLength": crate::auth::PASSWORD_MAX_BYTES / 4,
                "description": format!(
                    "a new account's password: at least 8 characters and at most {} bytes of UTF-8; an existing account's password as it is",
                    crate::auth::PASSWORD_MAX_BYTES
                ),
            },
            "device_name": one_line(limits::NAME_CHARS, "names this device in the token list"),
            "timezone": one_line(crate::routes::TIMEZONE_CHARS, "IANA time zone, such as Europe/Lisbon"),
        }), &["invite_code", "email", "display_name", "password", "device_name", "timezone"]),
        "LoginRequest": object(json!({
            "email": {"type": "string", "description": "the account's email (anything else is answered as a wrong email or password)"},
            "password": {"type": "string"},
            "device_name": one_line(limits::NAME_CHARS, "names this device in the token list"),
        }), &["email", "password", "device_name"]),
        "Session": object(json!({
            "token": {"type": "string", "description": "the bearer token, shown only here"},
            "token_id": {"type": "string"},
            "user_id": uuid(),
            "email": {"type": "string"},
            "workspaces": {"type": "array", "items": object(json!({
                "workspace": object(json!({"id": uuid(), "name": {"type": "string"}}), &["id", "name"]),
                "role": reference("Role"),
            }), &["workspace", "role"])},
            "expires_at": timestamp(),
        }), &["token", "token_id", "user_id", "email", "workspaces", "expires_at"]),
        "TokenInfo": object(json!({
            "token_id": {"type": "string"},
            "device_name": {"type": "string"},
            "created_at": timestamp(),
            "last_used_at": {"type": ["integer", "null"], "format": "int64"},
            "expires_at": timestamp(),
            "current": {"type": "boolean", "description": "whether this is the token making the request"},
        }), &["token_id", "device_name", "created_at", "last_used_at", "expires_at", "current"]),
        "Member": object(json!({
            "workspace_id": uuid(),
            "user_id": uuid(),
            "email": {"type": "string"},
            "display_name": {"type": "string"},
            "role": reference("Role"),
            "timezone": {"type": "string"},
            "working_hours": object(json!({
                "start_minute": uint(u16::MAX.into()),
                "end_minute": uint(u16::MAX.into()),
                "days": uint(u8::MAX.into()),
            }), &["start_minute", "end_minute", "days"]),
        }), &["workspace_id", "user_id", "email", "display_name", "role", "timezone", "working_hours"]),
        "InviteRequest": object(json!({"email": email(), "role": reference("Role")}), &["email", "role"]),
        "SetRoleRequest": object(json!({"role": reference("Role")}), &["role"]),
        "SetProfileRequest": object(json!({
            "timezone": one_line(crate::routes::TIMEZONE_CHARS, "IANA time zone, such as Europe/Lisbon"),
            "working_hours": object(json!({
                "start_minute": uint(1439),
                "end_minute": uint(1440),
                "days": {"type": "integer", "minimum": 1, "maximum": 127, "description": "bit 0 = Monday … bit 6 = Sunday"},
            }), &["start_minute", "end_minute", "days"]),
        }), &["timezone", "working_hours"]),
        "Invite": object(json!({
            "code": {"type": "string", "description": "the one-time code, shown only here"},
            "workspace_id": uuid(),
            "email": {"type": "string"},
            "role": reference("Role"),
            "expires_at": timestamp(),
        }), &["code", "workspace_id", "email", "role", "expires_at"]),
        "MutationEnvelope": object(json!({
            "client_id": uuid(),
            "mutation_id": {"type": "integer", "minimum": 1, "maximum": crate::push::MAX_MUTATION_ID, "description": "one more than the previous mutation of this client"},
            "hlc": reference("Hlc"),
            "created_at": timestamp(),
            "mutation": reference("Mutation"),
        }), &["client_id", "mutation_id", "hlc", "created_at", "mutation"]),
        "Mutation": mutation(),
        "Anchor": anchor(),
        "PushRequest": {
            "type": "object",
            "description": format!(
                "At most {MAX_PUSH_BATCH} mutations and withdrawals together; every envelope carries the push's client_id; ids are consecutive, withdrawn ones first."
            ),
            "properties": {
                "client_id": uuid(),
                "withdrawn": {"type": "array", "maxItems": MAX_PUSH_BATCH, "items": object(json!({
                    "mutation_id": {"type": "integer", "minimum": 1, "maximum": crate::push::MAX_MUTATION_ID},
                    "kind": {"type": "string"},
                    "spec_id": uuid(),
                    "code": {"type": "string", "enum": WITHDRAWAL_CODES.iter().map(wire).collect::<Vec<_>>()},
                    "message": {"type": "string", "description": format!("at most {} characters are kept", handoff_core::protocol::MAX_WITHDRAWAL_MESSAGE)},
                }), &["mutation_id", "kind", "spec_id", "code", "message"])},
                "mutations": {"type": "array", "maxItems": MAX_PUSH_BATCH, "items": reference("MutationEnvelope")},
            },
            "required": ["client_id", "mutations"],
        },
        "PushResponse": object(json!({
            "results": {"type": "array", "items": object(json!({
                "mutation_id": {"type": "integer", "minimum": 1},
                "outcome": object(json!({
                    "outcome": {"type": "string", "enum": ["applied", "merged", "conflict", "rejected"]},
                    "conflict_id": uuid(),
                    "code": {"type": "string", "enum": codes},
                    "message": {"type": "string"},
                }), &["outcome"]),
            }), &["mutation_id", "outcome"])},
            "server_hlc": reference("Hlc"),
            "history": {"type": "string", "description": "which history of the server's database answered; it changes when the server is restored from a backup"},
        }), &["results", "server_hlc"]),
        "PullRequest": object(json!({
            "cursors": {
                "type": "object",
                "description": "the last version the client applied, per scope",
                "propertyNames": reference("Scope"),
                "additionalProperties": uint(u64::MAX),
            },
            "limit": {
                "type": "integer",
                "minimum": 0,
                "maximum": u32::MAX,
                "description": format!("most records wanted; 0 or over {} means {}", handoff_core::protocol::MAX_PULL_LIMIT, handoff_core::protocol::MAX_PULL_LIMIT),
            },
        }), &["cursors", "limit"]),
        "PullResponse": object(json!({
            "pages": {"type": "array", "items": object(json!({
                "scope": reference("Scope"),
                "reset": {"type": "boolean"},
                "to_version": uint(u64::MAX),
                "records": {"type": "array", "items": object(json!({
                    "type": {"type": "string", "enum": ["workspace", "member", "member_removed", "spec", "deliverable", "revision", "thread", "comment", "review", "viewed_file", "acceptance_override", "conflict"]},
                    "data": {"type": "object"},
                }), &["type", "data"])},
            }), &["scope", "reset", "to_version", "records"])},
            "more": {"type": "boolean"},
            "server_hlc": reference("Hlc"),
            "history": {"type": "string", "description": "which history of the server's database answered; it changes when the server is restored from a backup"},
        }), &["pages", "more", "server_hlc"]),
        "Poke": object(json!({"scope": reference("Scope"), "version": uint(u64::MAX)}), &["scope", "version"]),
        "BlobsMissingRequest": object(json!({
            "hashes": {"type": "array", "maxItems": config.max_missing_query, "items": sha256()},
        }), &["hashes"]),
        "BlobsMissingResponse": object(json!({"missing": {"type": "array", "items": sha256()}}), &["missing"]),
    })
}

/// The wire names of some values of an enum.
fn names<T: serde::Serialize>(values: &[T]) -> Value {
    json!({"type": "string", "enum": values.iter().map(wire).collect::<Vec<_>>()})
}

/// One variant of an enum tagged by `kind`.
fn tagged(kind: &str, mut properties: Value, required: &[&str]) -> Value {
    properties["kind"] = json!({"const": kind});
    let mut required: Vec<&str> = required.to_vec();
    required.insert(0, "kind");
    object(properties, &required)
}

fn optional(schema: Value) -> Value {
    json!({"oneOf": [schema, {"type": "null"}]})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn string() -> Value {
    json!({"type": "string"})
}

/// `handoff_core::Anchor`: where a thread is attached.
fn anchor() -> Value {
    use handoff_core::{DiffSide, SectionKind};
    json!({"oneOf": [
        tagged("spec_section", json!({"section": names(&SectionKind::ALL)}), &["section"]),
        tagged("revision_lines", json!({
            "revision_id": uuid(),
            "path": string(),
            "start_line": uint(u32::MAX.into()),
            "end_line": uint(u32::MAX.into()),
            "side": names(&[DiffSide::Old, DiffSide::New]),
            "excerpt": string(),
        }), &["revision_id", "path", "start_line", "end_line", "side", "excerpt"]),
        tagged("deliverable", json!({"deliverable_id": uuid()}), &["deliverable_id"]),
        tagged("spec", json!({}), &[]),
    ]})
}

/// `handoff_core::mutation::Mutation`, the frozen wire format of every change: the shapes the
/// server reads. What a mutation's content must satisfy (titles, paths, permissions, the
/// lifecycle) is checked when it is applied and answered per mutation as `rejected`.
fn mutation() -> Value {
    use handoff_core::{AcceptanceStatus, SectionKind, SpecStatus, ThreadEventKind, Verdict};
    let spec = || json!({"spec_id": uuid()});
    let with = |mut base: Value, more: Value| {
        if let (Some(b), Some(m)) = (base.as_object_mut(), more.as_object()) {
            b.extend(m.clone());
        }
        base
    };
    let sections = object(
        json!({"system_context": string(), "api_shape": string(), "out_of_scope": string(), "notes": string()}),
        &["system_context", "api_shape", "out_of_scope", "notes"],
    );
    let status = names(&SpecStatus::ALL);
    let acceptance =
        names(&[AcceptanceStatus::Unchecked, AcceptanceStatus::Met, AcceptanceStatus::NotMet, AcceptanceStatus::NotApplicable]);
    let verdict = names(&[Verdict::Approve, Verdict::RequestChanges, Verdict::Comment]);
    let seen = uint(u32::MAX.into());
    json!({"oneOf": [
        tagged("spec.create", with(spec(), json!({
            "workspace_id": uuid(),
            "title": string(),
            "sections": sections,
            "criteria": array(object(json!({"id": uuid(), "text": string()}), &["id", "text"])),
            "due_date": optional(string()),
        })), &["spec_id", "workspace_id", "title", "sections", "criteria"]),
        tagged("spec.set_title", with(spec(), json!({"title": string()})), &["spec_id", "title"]),
        tagged("spec.edit_section", with(spec(), json!({"section": names(&SectionKind::ALL), "base": string(), "text": string()})), &["spec_id", "section", "base", "text"]),
        tagged("spec.set_due_date", with(spec(), json!({"due_date": optional(string())})), &["spec_id"]),
        tagged("spec.set_status", with(spec(), json!({"from": status, "to": status})), &["spec_id", "from", "to"]),
        tagged("spec.assign", with(spec(), json!({"email": string()})), &["spec_id", "email"]),
        tagged("spec.unassign", with(spec(), json!({"email": string()})), &["spec_id", "email"]),
        tagged("criterion.add", with(spec(), json!({"criterion_id": uuid(), "text": string(), "after": optional(uuid())})), &["spec_id", "criterion_id", "text"]),
        tagged("criterion.edit", with(spec(), json!({"criterion_id": uuid(), "text": string()})), &["spec_id", "criterion_id", "text"]),
        tagged("criterion.move", with(spec(), json!({"criterion_id": uuid(), "after": optional(uuid())})), &["spec_id", "criterion_id"]),
        tagged("criterion.remove", with(spec(), json!({"criterion_id": uuid()})), &["spec_id", "criterion_id"]),
        tagged("deliverable.create", with(spec(), json!({"deliverable_id": uuid()})), &["spec_id", "deliverable_id"]),
        tagged("revision.create", with(spec(), json!({
            "revision_id": uuid(),
            "deliverable_id": uuid(),
            "files": array(object(
                json!({"path": string(), "sha256": string(), "size": uint(u64::MAX), "executable": {"type": "boolean"}}),
                &["path", "sha256", "size", "executable"],
            )),
            "summary": string(),
            "addresses": array(uuid()),
        })), &["spec_id", "revision_id", "deliverable_id", "files", "summary", "addresses"]),
        tagged("thread.create", with(spec(), json!({"thread_id": uuid(), "anchor": reference("Anchor"), "comment_id": uuid(), "body": string()})), &["spec_id", "thread_id", "anchor", "comment_id", "body"]),
        tagged("comment.add", with(spec(), json!({"comment_id": uuid(), "thread_id": uuid(), "body": string(), "seen_events": seen})), &["spec_id", "comment_id", "thread_id", "body", "seen_events"]),
        tagged("comment.edit", with(spec(), json!({"comment_id": uuid(), "thread_id": uuid(), "body": string()})), &["spec_id", "comment_id", "thread_id", "body"]),
        tagged("comment.redact", with(spec(), json!({"comment_id": uuid(), "thread_id": uuid()})), &["spec_id", "comment_id", "thread_id"]),
        tagged("thread.set_state", with(spec(), json!({"event_id": uuid(), "thread_id": uuid(), "event": names(&[ThreadEventKind::Resolve, ThreadEventKind::Reopen])})), &["spec_id", "event_id", "thread_id", "event"]),
        tagged("review.publish", with(spec(), json!({
            "review_id": uuid(),
            "revision_id": uuid(),
            "verdict": verdict,
            "summary": string(),
            "criteria": array(object(json!({"criterion_id": uuid(), "status": acceptance}), &["criterion_id", "status"])),
        })), &["spec_id", "review_id", "revision_id", "verdict", "summary", "criteria"]),
        tagged("review.publish_v2", with(spec(), json!({
            "review_id": uuid(),
            "revision_id": uuid(),
            "verdict": verdict,
            "summary": string(),
            "criteria": array(object(json!({
                "criterion_id": uuid(),
                "text": string(),
                "status": acceptance,
                "note": string(),
                "evidence": optional(object(json!({"path": string(), "start_line": uint(u32::MAX.into()), "end_line": uint(u32::MAX.into())}), &["path", "start_line", "end_line"])),
            }), &["criterion_id", "status"])),
            "threads": array(object(json!({"thread_id": uuid(), "comment_id": uuid(), "anchor": reference("Anchor"), "body": string()}), &["thread_id", "comment_id", "anchor", "body"])),
            "replies": array(object(json!({"comment_id": uuid(), "thread_id": uuid(), "body": string(), "seen_events": seen}), &["comment_id", "thread_id", "body", "seen_events"])),
        })), &["spec_id", "review_id", "revision_id", "verdict", "summary", "criteria", "threads", "replies"]),
        tagged("file.set_viewed", with(spec(), json!({"revision_id": uuid(), "path": string(), "sha256": string(), "viewed": {"type": "boolean"}})), &["spec_id", "revision_id", "path", "sha256", "viewed"]),
        tagged("spec.accept_override", with(spec(), json!({"from": status, "reason": string()})), &["spec_id", "from", "reason"]),
        tagged("spec.ready_override", with(spec(), json!({"from": status, "reason": string()})), &["spec_id", "from", "reason"]),
    ]})
}

/// The operations, in the order of [`crate::routes::ROUTES`].
fn operations() -> Vec<Op> {
    use ApiErrorCode::*;
    let ok = |schema: Value| vec![(200, json_answer("OK", schema))];
    let done = || vec![(204, json!({"description": "Done"}))];
    let array_of = |name: &str| json!({"type": "array", "items": reference(name)});
    let ws = || path_param("id", uuid());
    let bytes = json!({"type": "string", "format": "binary"});
    let sha = path_param("sha256", sha256());
    vec![
        Op {
            method: "get",
            path: "/healthz",
            summary: "Liveness probe (no auth, no protocol header)",
            versioned: false,
            auth: false,
            params: vec![],
            body: Body::None,
            answers: vec![(
                200,
                json!({"description": "`ok`", "content": {"text/plain": {"schema": {"type": "string", "enum": ["ok"]}}}}),
            )],
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "get",
            path: "/readyz",
            summary: "Readiness probe: the database and the blob store answer (no auth, no protocol header)",
            versioned: false,
            auth: false,
            params: vec![],
            body: Body::None,
            answers: vec![
                (
                    200,
                    json!({"description": "`ready`", "content": {"text/plain": {"schema": {"type": "string", "enum": ["ready"]}}}}),
                ),
                (
                    503,
                    unavailable(
                        "Not ready: the database or the blob store failed (the message says which), or the process is stopping",
                    ),
                ),
            ],
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "get",
            path: "/metrics",
            summary: "This process's metrics in the Prometheus text format (no auth, no protocol header: keep it off the public address)",
            versioned: false,
            auth: false,
            params: vec![],
            body: Body::None,
            answers: vec![(
                200,
                json!({"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}),
            )],
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "post",
            path: "/v1/auth/join",
            summary: "Join a workspace with an invite code, creating the account if needed",
            versioned: true,
            auth: false,
            params: vec![],
            body: Body::Json(reference("JoinRequest")),
            answers: ok(reference("Session")),
            refusals: vec![Invalid, TooLarge, InviteInvalid, Unauthorized, AlreadyExists],
            // `invalid`: a time zone the server's database does not know (no schema lists them).
            valid_refusals: vec![Invalid, InviteInvalid, Unauthorized, AlreadyExists],
        },
        Op {
            method: "post",
            path: "/v1/auth/login",
            summary: "Sign in; returns a new bearer token",
            versioned: true,
            auth: false,
            params: vec![],
            body: Body::Json(reference("LoginRequest")),
            answers: ok(reference("Session")),
            refusals: vec![Invalid, TooLarge, Unauthorized],
            valid_refusals: vec![Unauthorized],
        },
        Op {
            method: "post",
            path: "/v1/auth/logout",
            summary: "Revoke the calling token",
            versioned: true,
            auth: true,
            params: vec![],
            body: Body::None,
            answers: done(),
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "get",
            path: "/v1/auth/tokens",
            summary: "The caller's live tokens, one per device",
            versioned: true,
            auth: true,
            params: vec![],
            body: Body::None,
            answers: ok(array_of("TokenInfo")),
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "delete",
            path: "/v1/auth/tokens/{token_id}",
            summary: "Revoke one of the caller's tokens",
            versioned: true,
            auth: true,
            params: vec![path_param("token_id", json!({"type": "string", "description": "a token_id from the token list"}))],
            body: Body::None,
            answers: done(),
            refusals: vec![NotFound],
            valid_refusals: vec![NotFound],
        },
        Op {
            method: "get",
            path: "/v1/workspaces/{id}/members",
            summary: "Members of a workspace the caller belongs to",
            versioned: true,
            auth: true,
            params: vec![ws()],
            body: Body::None,
            answers: ok(array_of("Member")),
            refusals: vec![Invalid, NotFound],
            valid_refusals: vec![NotFound],
        },
        Op {
            method: "post",
            path: "/v1/workspaces/{id}/invites",
            summary: "Invite someone (owners only); the code is shown once",
            versioned: true,
            auth: true,
            params: vec![ws()],
            body: Body::Json(reference("InviteRequest")),
            answers: ok(reference("Invite")),
            refusals: vec![Invalid, TooLarge, NotFound, Forbidden, AlreadyExists],
            valid_refusals: vec![NotFound, Forbidden, AlreadyExists],
        },
        Op {
            method: "delete",
            path: "/v1/workspaces/{id}/members/{user_id}",
            summary: "Remove a member (owners only)",
            versioned: true,
            auth: true,
            params: vec![ws(), path_param("user_id", uuid())],
            body: Body::None,
            answers: done(),
            refusals: vec![Invalid, NotFound, Forbidden, LastOwner],
            valid_refusals: vec![NotFound, Forbidden, Invalid, LastOwner],
        },
        Op {
            method: "put",
            path: "/v1/workspaces/{id}/members/{user_id}/role",
            summary: "Change a member's role (owners only); a workspace keeps at least one owner",
            versioned: true,
            auth: true,
            params: vec![ws(), path_param("user_id", uuid())],
            body: Body::Json(reference("SetRoleRequest")),
            answers: ok(reference("Member")),
            refusals: vec![Invalid, TooLarge, NotFound, Forbidden, LastOwner],
            valid_refusals: vec![NotFound, Forbidden, LastOwner],
        },
        Op {
            method: "put",
            path: "/v1/workspaces/{id}/members/{user_id}/profile",
            summary: "Set one's own time zone and working hours (nobody sets someone else's)",
            versioned: true,
            auth: true,
            params: vec![ws(), path_param("user_id", uuid())],
            body: Body::Json(reference("SetProfileRequest")),
            answers: ok(reference("Member")),
            refusals: vec![Invalid, TooLarge, NotFound, Forbidden],
            // An unknown zone name, or hours that end before they start: no schema can say.
            valid_refusals: vec![NotFound, Forbidden, Invalid],
        },
        Op {
            method: "post",
            path: "/v1/push",
            summary: "Upload mutations; one result per mutation, at most once each",
            versioned: true,
            auth: true,
            params: vec![],
            body: Body::Json(reference("PushRequest")),
            answers: ok(reference("PushResponse")),
            refusals: vec![Invalid, TooLarge, Forbidden, NotFound, MutationGap, BlobsMissing],
            valid_refusals: vec![Invalid, Forbidden, NotFound, MutationGap, BlobsMissing],
        },
        Op {
            method: "post",
            path: "/v1/pull",
            summary: "Download changes after the given cursors, in commit-bounded pages",
            versioned: true,
            auth: true,
            params: vec![],
            body: Body::Json(reference("PullRequest")),
            answers: ok(reference("PullResponse")),
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "get",
            path: "/v1/events",
            summary: "Server-sent events: `poke` events whose data is a Poke",
            versioned: true,
            auth: true,
            params: vec![],
            body: Body::None,
            answers: vec![(
                200,
                json!({"description": "text/event-stream of `poke` events", "content": {"text/event-stream": {"schema": {"type": "string"}, "x-handoff-event-data": reference("Poke")}}}),
            )],
            refusals: vec![],
            valid_refusals: vec![],
        },
        Op {
            method: "post",
            path: "/v1/blobs/missing",
            summary: "Which of these blobs the server lacks",
            versioned: true,
            auth: true,
            params: vec![],
            body: Body::Json(reference("BlobsMissingRequest")),
            answers: ok(reference("BlobsMissingResponse")),
            refusals: vec![Invalid],
            valid_refusals: vec![],
        },
        Op {
            method: "put",
            path: "/v1/blobs/{sha256}",
            summary: "Upload a blob; stored once its content hashes to its address",
            versioned: true,
            auth: true,
            params: vec![sha.clone()],
            body: Body::Bytes,
            answers: [done(), vec![(503, unavailable("The blob store is unavailable: nothing was stored; retry"))]].concat(),
            refusals: vec![Invalid, MalformedRequest, TooLarge, QuotaExceeded, HashMismatch],
            valid_refusals: vec![HashMismatch, QuotaExceeded],
        },
        Op {
            method: "get",
            path: "/v1/blobs/{sha256}",
            summary: "Download a blob the caller uploaded or may see through a revision; resumable with `Range: bytes=N-`",
            versioned: true,
            auth: true,
            params: vec![
                sha,
                json!({
                    "name": "Range",
                    "in": "header",
                    "required": false,
                    "schema": {"type": "string"},
                    "description": "`bytes=N-` to resume from byte N; other forms get the whole blob",
                }),
            ],
            body: Body::None,
            answers: vec![
                (
                    200,
                    json!({
                        "description": "The content",
                        "headers": {"Content-Length": {"required": true, "schema": {"type": "integer", "minimum": 0}}, "Accept-Ranges": {"required": true, "schema": {"type": "string", "enum": ["bytes"]}}},
                        "content": {"application/octet-stream": {"schema": bytes}},
                    }),
                ),
                (
                    206,
                    json!({
                        "description": "The content from byte N on (`Range: bytes=N-`)",
                        "headers": {"Content-Range": {"required": true, "schema": {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"}}},
                        "content": {"application/octet-stream": {"schema": bytes}},
                    }),
                ),
                (
                    416,
                    json!({
                        "description": "N is at or past the end",
                        "headers": {"Content-Range": {"required": true, "schema": {"type": "string", "pattern": "^bytes \\*/[0-9]+$"}}},
                    }),
                ),
                (503, unavailable("The blob store is unavailable; retry")),
            ],
            refusals: vec![Invalid, NotFound],
            valid_refusals: vec![NotFound],
        },
        Op {
            method: "get",
            path: "/v1/openapi.json",
            summary: "This document (no auth)",
            versioned: true,
            auth: false,
            params: vec![],
            body: Body::None,
            answers: vec![(200, json_answer("OpenAPI 3.1", json!({"type": "object", "required": ["openapi", "paths"]})))],
            refusals: vec![],
            valid_refusals: vec![],
        },
    ]
}

/// A 503 answer: `internal` with `Retry-After` (a blob store or database that does not answer
/// now; the same request may succeed later).
fn unavailable(description: &str) -> Value {
    let mut answer = json_answer(description, refusal_schema(&[ApiErrorCode::Internal]));
    answer["headers"] = retry_after();
    answer
}

/// The `Retry-After` header of 429 and 503 answers.
fn retry_after() -> Value {
    json!({"Retry-After": {"required": true, "description": "seconds to wait", "schema": {"type": "integer", "minimum": 0}}})
}

/// The error body for refusals with these codes (one HTTP status).
fn refusal_schema(codes: &[ApiErrorCode]) -> Value {
    let names: Vec<Value> = codes.iter().map(wire).collect();
    let mut properties = json!({"code": {"type": "string", "enum": names}, "message": {"type": "string"}});
    if codes.contains(&ApiErrorCode::MutationGap) {
        properties["recorded"] = json!({"type": "integer", "minimum": 0, "description": "with mutation_gap: the last mutation id the server recorded for this client"});
    }
    if codes.contains(&ApiErrorCode::BlobsMissing) {
        properties["missing"] =
            json!({"type": "array", "items": sha256(), "description": "with blobs_missing: upload these, then push again"});
    }
    object(properties, &["code", "message"])
}

/// Words for the refusals of one status.
fn refusal_description(codes: &[ApiErrorCode]) -> String {
    let names: Vec<String> = codes.iter().map(|c| wire(c).as_str().unwrap_or_default().to_owned()).collect();
    format!("Refused: {}", names.join(", "))
}

fn operation_object(op: &Op, config: &Config) -> Value {
    use ApiErrorCode::*;
    let mut codes: Vec<ApiErrorCode> = op.refusals.clone();
    // Every request holds a request slot; bounded requests also have a time limit.
    codes.extend([RateLimited, Internal]);
    if op.versioned {
        codes.push(UpgradeRequired);
    }
    if op.auth {
        codes.extend([Unauthorized, TokenExpired, TokenRevoked]);
    }
    if matches!(op.body, Body::Json(_)) {
        codes.extend([MalformedRequest, TooLarge]);
    }
    codes.sort_by_key(|c| code_index(*c));
    codes.dedup();
    let mut by_status: BTreeMap<u16, Vec<ApiErrorCode>> = BTreeMap::new();
    for code in codes {
        by_status.entry(status_for(code).as_u16()).or_default().push(code);
    }
    let mut responses = serde_json::Map::new();
    for (status, answer) in &op.answers {
        responses.insert(status.to_string(), answer.clone());
    }
    for (status, codes) in &by_status {
        let mut answer = json_answer(&refusal_description(codes), refusal_schema(codes));
        if *status == 429 {
            answer["headers"] = retry_after();
        }
        if *status == 413 && matches!(op.body, Body::Json(_)) {
            answer["description"] = json!(format!(
                "{} (a body over {} bytes, or a field or list over its limit)",
                refusal_description(codes),
                config.max_json_bytes
            ));
        }
        responses.insert(status.to_string(), answer);
    }
    let mut params = Vec::new();
    if op.versioned {
        params.push(json!({"$ref": "#/components/parameters/Protocol"}));
    }
    params.extend(op.params.iter().cloned());
    let mut out = json!({
        "summary": op.summary,
        "operationId": format!("{}{}", op.method, op.path.replace(['/', '{', '}', '.'], "_")),
        "parameters": params,
        "responses": responses,
    });
    if !op.auth {
        out["security"] = json!([]);
    }
    if !op.valid_refusals.is_empty() {
        out["x-handoff-valid-request-refusals"] = json!(op.valid_refusals.iter().map(wire).collect::<Vec<_>>());
    }
    match &op.body {
        Body::None => {}
        Body::Json(schema) => {
            out["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        Body::Bytes => {
            out["requestBody"] = json!({
                "required": true,
                "description": format!("the blob's bytes, at most {}", config.max_blob_bytes),
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            });
        }
    }
    out
}

/// The (method, path) of every documented operation.
pub fn documented_routes() -> Vec<(&'static str, &'static str)> {
    operations().iter().map(|op| (op.method, op.path)).collect()
}

/// The document for a server running with `config`.
pub fn document(config: &Config) -> Value {
    let mut paths = serde_json::Map::new();
    for op in operations() {
        let item = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        item[op.method] = operation_object(&op, config);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Handoff sync server",
            "version": PROTOCOL_VERSION.to_string(),
            "description": format!(
                "Protocol version {PROTOCOL_VERSION}. Every /v1 request carries `{PROTOCOL_HEADER}: {PROTOCOL_VERSION}` (without it, or with another version: 426 `upgrade_required`); every refusal is `{{code, message}}` with a stable code. Generated by the server from the limits it enforces."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas(config),
            "parameters": {
                "Protocol": {
                    "name": PROTOCOL_HEADER,
                    "in": "header",
                    "required": true,
                    "description": "the protocol version the client speaks; anything else is answered 426 `upgrade_required`",
                    "schema": {"type": "string", "enum": [PROTOCOL_VERSION.to_string()]},
                },
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "the token from join or login"}},
        },
        "security": [{"bearer": []}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;

    #[test]
    fn every_code_is_listed_once_in_enum_order() {
        for (i, code) in ALL_CODES.iter().enumerate() {
            assert_eq!(code_index(*code), i, "{code:?}");
        }
    }

    #[test]
    fn the_document_describes_exactly_the_routes_the_router_serves() {
        assert_eq!(documented_routes(), ROUTES.to_vec());
    }

    #[test]
    fn limits_come_from_the_validators_and_the_config() {
        let mut config = Config::new("blobs".into());
        config.max_missing_query = 7;
        let doc = document(&config);
        let s = &doc["components"]["schemas"];
        assert_eq!(s["BlobsMissingRequest"]["properties"]["hashes"]["maxItems"], 7);
        assert_eq!(s["JoinRequest"]["properties"]["display_name"]["maxLength"], limits::NAME_CHARS);
        assert_eq!(s["PushRequest"]["properties"]["mutations"]["maxItems"], MAX_PUSH_BATCH);
        let sha = &doc["paths"]["/v1/blobs/{sha256}"]["get"]["parameters"][1]["schema"];
        assert_eq!(sha["pattern"], "^[0-9a-f]{64}$");
    }

    #[test]
    fn a_missing_protocol_header_is_documented_as_426_on_every_v1_operation() {
        let doc = document(&Config::new("blobs".into()));
        for (method, path) in ROUTES.iter().filter(|(_, p)| p.starts_with("/v1/")) {
            let answer = &doc["paths"][path][method]["responses"]["426"];
            assert_eq!(
                answer["content"]["application/json"]["schema"]["properties"]["code"]["enum"],
                json!(["upgrade_required"]),
                "{method} {path}"
            );
        }
    }
}
