#!/usr/bin/env bash
# Contract test: schemathesis fuzzes every operation of the OpenAPI document
# that duban serves, and fails on any answer the document does not promise
# (a 5xx, an undocumented status or content type, a body off its schema).
#
# It starts the already built `duban` (target/debug, or DUBAN_BIN) on a fresh
# SQLite database in a temporary folder, with a known admin password, on a
# free loopback port; sets up a unit, a unit clerk and a little data through
# the API; then runs schemathesis once as the unit clerk and once as the
# admin. With DUBAN_ST_POSTGRES_URL (a PostgreSQL server's maintenance
# database, e.g. postgres://postgres@127.0.0.1:5432/postgres) it does the same
# again on a fresh PostgreSQL database made there and dropped afterwards:
# PostgreSQL refuses things SQLite takes (a NUL in text), so some 500s show
# only there. schemathesis comes from PyPI, pinned, into a virtualenv under
# target/ (ignored by git; DUBAN_ST_VENV to put it elsewhere); nothing else
# is fetched. Runs on its own: `bash .ci/schemathesis.sh`.
#
# Budget: SCHEMATHESIS_MAX_TIME seconds and SCHEMATHESIS_MAX_EXAMPLES cases
# per operation for each run (two per database; the defaults keep the step
# within a few minutes on 2 cores). A fixed seed keeps runs alike (the time budget
# decides how far each gets); set SCHEMATHESIS_SEED to explore other cases.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

st_version=4.32.5
venv=${DUBAN_ST_VENV:-$root/target/schemathesis-venv}
max_time=${SCHEMATHESIS_MAX_TIME:-60}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-25}
seed=${SCHEMATHESIS_SEED:-20261130}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$st_version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$st_version"
fi

bin=${DUBAN_BIN:-$root/target/debug/duban}
if [ ! -x "$bin" ]; then
  cargo build --bin duban
fi

work=$(mktemp -d)
server_pid=
pg_database=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
pg_admin() { psql "$DUBAN_ST_POSTGRES_URL" -q -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
  stop_server
  if [ -n "$pg_database" ]; then
    pg_admin "DROP DATABASE IF EXISTS $pg_database WITH (FORCE)" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

admin_password='Schemathesis-admin-1'
clerk_password='Schemathesis-clerk-1'

# api METHOD PATH [TOKEN] [JSON]: the answer's body; fails, saying why, on a non-2xx.
api() {
  local method=$1 path=$2 token=${3:-} body=${4:-} out
  local args=(-sS --fail-with-body -X "$method" "$base/api/v1$path")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  if ! out=$(curl "${args[@]}"); then
    echo "setting up: $method $path answered $out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
login() {
  api POST /auth/login '' "{\"username\": \"$1\", \"password\": \"$2\"}" | field access_token
}

# serve NAME [DATABASE_URL]: starts duban on the database (a new SQLite file
# in its own folder when no URL is given) and waits until it is ready.
serve() {
  local name=$1 url=${2:-}
  local dir="$work/$name"
  mkdir -p "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  # Started from its folder, so no duban.toml of the checkout is read, and
  # without the environment's DATABASE_URL.
  (
    cd "$dir"
    exec env -u DATABASE_URL \
      ${url:+DATABASE_URL="$url"} \
      DUBAN_DATA_DIR="$dir/data" \
      DUBAN_LISTEN="127.0.0.1:$port" \
      DUBAN_ADMIN_PASSWORD="$admin_password" \
      DUBAN_MAIL_TRANSPORT=file \
      "$bin" serve
  ) >"$dir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      cat "$dir/server.log" >&2
      echo "duban did not start" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "duban did not become ready" >&2
  exit 1
}

# A unit and its clerk, and a little of everything, so that operations on
# ids reach their handlers: a plan, a task in progress with a report,
# evidence and an extension request, an indicator with a reported value and
# its evidence, an accountability record, a holiday and a calendar feed.
# (The scheduler drafts last month's bulletin at start.)
seed() {
  admin=$(login admin "$admin_password")
  unit=$(api POST /units "$admin" '{"code": "st-town", "name": "契约镇", "kind": "township"}' | field id)
  api POST /users "$admin" "{\"username\": \"st-clerk\", \"display_name\": \"契约镇联络员\",
    \"role\": \"unit\", \"unit_id\": $unit, \"password\": \"$clerk_password\"}" >/dev/null
  clerk=$(login st-clerk "$clerk_password")
  plan=$(api POST /plans "$admin" '{"title": "契约测试方案", "year": 2026}' | field id)
  task=$(api POST /tasks "$admin" "{\"plan_id\": $plan, \"title\": \"Contract Task\",
    \"code\": \"1.1\", \"lead_unit_id\": $unit, \"due_date\": \"2030-06-30\"}" | field id)
  api POST "/tasks/$task/assign" "$admin" '{"version": 1}' >/dev/null
  api POST "/tasks/$task/accept" "$clerk" '{"version": 2}' >/dev/null
  api POST "/tasks/$task/reports" "$clerk" '{"percent": 40, "body": "进展顺利"}' >/dev/null
  printf 'evidence' >"$work/evidence.txt"
  curl -fsS -X POST "$base/api/v1/tasks/$task/attachments" -H "Authorization: Bearer $clerk" \
    -F "file=@$work/evidence.txt;type=text/plain" >/dev/null
  api POST "/tasks/$task/extensions" "$clerk" '{"new_due_date": "2030-09-30", "reason": "施工期延长"}' >/dev/null
  indicator=$(api POST /indicators "$admin" "{\"domain\": \"生态安全\", \"number\": \"1\",
    \"name\": \"空气质量优良天数比例\", \"lead_unit_id\": $unit, \"target\": \"≥80\",
    \"frequency\": \"yearly\", \"reporting_from\": \"2025-01-01\"}" | field id)
  value=$(api POST "/indicators/$indicator/values" "$clerk" '{"period": "2025", "value": 85}' | field id)
  curl -fsS -X POST "$base/api/v1/indicators/$indicator/values/$value/attachments" \
    -H "Authorization: Bearer $clerk" -F "file=@$work/evidence.txt;type=text/plain" >/dev/null
  api POST /accountability "$admin" "{\"unit_id\": $unit, \"level\": \"chase\", \"reason\": \"逾期\"}" >/dev/null
  api PUT /holidays/2026-10-01 "$admin" '{"kind": "holiday", "name": "国庆节"}' >/dev/null
  api POST /calendar/feeds "$clerk" '{"name": "phone"}' >/dev/null
}

# Values that exist, offered for ids, versions, dates and the like half of
# the time (the other half stays random), so generated requests get past
# "no such record" and "not a date" to the handlers' own rules.
cat >"$work/schemathesis.toml" <<TOML
[dictionaries.ids]
values = [1, 2, 3]

[dictionaries.dates]
values = ["2026-10-01", "2030-06-30", "2030-09-30"]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }
"path.value" = { dictionary = "ids", probability = 0.5 }
"path.attachment" = { dictionary = "ids", probability = 0.5 }
"path.date" = { dictionary = "dates", probability = 0.5 }
"query.from" = { dictionary = "dates", probability = 0.5 }
"query.to" = { dictionary = "dates", probability = 0.5 }
"body.version" = { dictionary = "ids", probability = 0.5 }
"body.plan_id" = { dictionary = "ids", probability = 0.5 }
"body.lead_unit_id" = { dictionary = "ids", probability = 0.5 }
"body.unit_id" = { dictionary = "ids", probability = 0.5 }
"body.due_date" = { dictionary = "dates", probability = 0.5 }
"body.new_due_date" = { dictionary = "dates", probability = 0.5 }
TOML

# One worker: with two, CPython 3.11's ast.parse (used by hypothesis to
# describe its filters) races between threads and aborts the run with
# "SystemError: AST constructor recursion depth mismatch", a fault of the
# tool, not of duban.
run() {
  local who=$1 token=$2
  echo "== schemathesis as $who"
  # From the temporary folder: schemathesis keeps a cache of failures in
  # the working directory (.schemathesis/), which does not belong in the checkout.
  (cd "$work" && "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --max-time "$max_time" \
    --seed "$seed" \
    --workers 1 \
    --generation-database none \
    --no-color)
}

# check NAME [DATABASE_URL]: the whole check on one database.
status=0
check() {
  local name=$1
  echo "== on $name"
  serve "$@"
  seed
  local failed=0
  # The clerk first: the admin's run may change or deactivate the clerk.
  run "the unit clerk" "$clerk" || failed=1
  run "the admin" "$admin" || failed=1
  if [ "$failed" -ne 0 ]; then
    status=1
    echo "schemathesis found answers the API description does not promise ($name); server log:" >&2
    tail -n 50 "$work/$name/server.log" >&2
  fi
  stop_server
}

check sqlite
if [ -n "${DUBAN_ST_POSTGRES_URL:-}" ]; then
  pg_database="duban_st_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
  pg_admin "CREATE DATABASE $pg_database"
  check postgres "${DUBAN_ST_POSTGRES_URL%/*}/$pg_database"
fi
exit "$status"
